import type { TaskErrorInfo } from './interfaces/task-info.interface.js';

/** @internal The part of a thrown value that is kept with a failed task. */
export function toTaskErrorInfo(error: unknown): TaskErrorInfo {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'Error', message: typeof error === 'string' ? error : String(error) };
}
