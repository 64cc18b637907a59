export const UNKNOWN_TASK = (name: string, known: readonly string[], queue: string, elsewhere: readonly string[]) =>
  elsewhere.length > 0
    ? `Task "${name}" runs on the queue "${elsewhere[0]}", not on "${queue}". Enqueue it through that queue: ` +
      `@InjectTaskQueue("${elsewhere[0]}") (or moduleRef.get(getTaskQueueToken("${elsewhere[0]}"))).`
    : `No @TaskHandler is registered for the task "${name}" on the queue "${queue}". ` +
      (known.length > 0
        ? `Known tasks: ${known.map((k) => `"${k}"`).join(', ')}. `
        : 'No task handler was found at all. ') +
      'Check the name, and that the provider declaring @TaskHandler("' +
      name +
      '") belongs to a module of this application (and that the application was initialised).';

export const DUPLICATE_QUEUE = (name: string) =>
  `The task queue "${name}" is registered twice (TaskQueueModule.forRoot's queueName or registerQueue). Register ` +
  'each queue once, in one module that exports it to the modules that enqueue on it.';

export const UNREGISTERED_QUEUE = (where: string, what: string, queue: string, known: readonly string[]) =>
  `${what} on ${where} runs on the queue "${queue}", which no module registers (queues: ` +
  `${known.map((k) => `"${k}"`).join(', ')}). Add TaskQueueModule.registerQueue({ name: "${queue}" }) to a module, ` +
  'or fix the queue option.';

export const UNSERIALIZABLE_PAYLOAD = (name: string, path: string, reason: string) =>
  `The payload of task "${name}" cannot be serialized: ${path} ${reason}. ` +
  'Payloads travel as JSON; pass plain objects, arrays, strings, finite numbers, booleans and null ' +
  '(convert BigInt, Map, Set and the like to strings, arrays or objects first).';

export const DUPLICATE_TASK_HANDLER = (name: string, first: string, second: string) =>
  `Two @TaskHandler methods are named "${name}": ${first} and ${second}. Task names must be unique within a ` +
  'queue; rename one of them, or bind one to another queue with { queue }.';

export const UNKNOWN_OPTION = (where: string, key: string, suggestion: string | undefined, known: readonly string[]) =>
  `${where} has no option \`${key}\`` +
  (suggestion === undefined ? '.' : `: did you mean \`${suggestion}\`?`) +
  ` Known options: ${known.join(', ')}. Fix its name or remove it (a misspelled option would otherwise be ignored).`;

/** A key of a nested options object (or of a call's options) that its interface does not declare. */
export const UNKNOWN_KEY = (path: string, key: string, suggestion: string | undefined, known: readonly string[]) =>
  `\`${path}\` has no key "${key}"` +
  (suggestion === undefined ? '.' : `: did you mean "${suggestion}"?`) +
  ` Known keys: ${known.join(', ')}. Fix its name or remove it (a misspelled key would otherwise be ignored).`;

/** The shared shape: `<option path>` must be <expectation>; got <value>. <how to fix> */
export const INVALID_OPTION = (option: string, value: unknown, expected: string, fix = 'Check your configuration.') =>
  `\`${option}\` must be ${expected}; got ${safeString(value)}. ${fix}`;

export const TASK_TIMEOUT = (name: string, timeoutMs: number) =>
  `Task "${name}" did not finish within its timeoutMs of ${timeoutMs} ms; the attempt failed and context.signal ` +
  'was aborted. Make the handler honour context.signal, or raise timeoutMs.';

export const TASK_ABORTED_AT_SHUTDOWN = (name: string, deadlineMs: number) =>
  `Task "${name}" was still running when the shutdown deadline of ${deadlineMs} ms passed; it was aborted. ` +
  'Raise shutdownDeadlineMs, or make the handler honour context.signal.';

const what = (names: readonly string[]) => (names.length === 1 ? `task "${names[0]}"` : `${names.length} tasks`);

export const ENQUEUE_FAILED = (names: readonly string[], cause: unknown) =>
  `Could not enqueue ${what(names)}: ` +
  // Causes such as ioredis's "Connection is closed." end with their own full stop.
  `${(cause instanceof Error ? cause.message : safeString(cause)).replace(/[.\s]+$/, '')}. The queue backend ` +
  '(Redis) is unreachable or too slow. Retry later; pass a dedupKey so that a retry cannot run the task twice.';

export const ENQUEUE_AFTER_SHUTDOWN = (names: readonly string[]) =>
  `Could not enqueue ${what(names)}: the task queue is shut down (the application is closing or closed), so ` +
  'nothing would run it. Enqueue before shutdown starts, for example from a hook that runs before ' +
  'beforeApplicationShutdown, or from another instance.';

export const NO_HANDLER_ON_WORKER = (name: string) =>
  `This worker has no @TaskHandler for task "${name}" (the producing instance knows it). Deploy the same ` +
  'handlers on every instance that runs workers.';

export const MISSING_SHUTDOWN_HOOKS =
  'Shutdown hooks are not enabled, so on SIGTERM the task queue cannot stop fetching, let running tasks finish ' +
  'and close its connections in order. Call app.enableShutdownHooks() in main.ts (or set ' +
  'warnWithoutShutdownHooks: false if you close the application yourself).';

export const TASKS_DISCARDED_AT_SHUTDOWN = (waiting: number, delayed: number, aborted: readonly string[]) =>
  `The in-memory task queue stopped with ${waiting} waiting and ${delayed} delayed task(s) that will not run` +
  (aborted.length > 0 ? `, and aborted ${aborted.length} running task(s) (ids ${aborted.join(', ')})` : '') +
  '. The memory driver keeps nothing across restarts; use driver: "bullmq" for durable tasks.';

export const TASKS_REQUEUED_AT_SHUTDOWN = (deadlineMs: number, ids: readonly string[]) =>
  `${ids.length} task(s) were still running ${deadlineMs} ms into shutdown; they were aborted and handed back to ` +
  `the queue for another worker (ids ${ids.join(', ')}).`;

export const HANDLER_IGNORED = (where: string, reason: string) => `@TaskHandler on ${where} is ignored: ${reason}.`;

function safeString(value: unknown): string {
  // JSON would print NaN and ±Infinity as null, hiding the very value that is wrong.
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  try {
    return typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value) ?? value);
  } catch {
    return String(value);
  }
}

export const CLUSTER_PREFIX_WITHOUT_HASH_TAG = (prefix: unknown, queueName: string) =>
  `Invalid task queue option prefix: ${safeString(prefix)}. On a Redis Cluster the prefix must contain a hash tag ` +
  "(text in braces) so that all of the queue's keys share one slot, as BullMQ's scripts require. Use for " +
  `example "{${typeof prefix === 'string' && prefix !== '' ? prefix.replace(/[{}]/g, '') : 'bull'}:${queueName}}", or ` +
  `leave prefix out for the default "{${queueName}}". Queues with different hash tags spread over the cluster.`;

export const UNREADABLE_JOB = (id: string | undefined, reason: string) =>
  `Task ${id} cannot be read: ${reason}. It was written by another program or version, or corrupted, so it was ` +
  'failed without running. Enqueue it again with a valid payload, or remove it.';

export const CONNECTIONS_FORCED_CLOSED = (graceMs: number) =>
  `BullMQ did not close within ${graceMs} ms (Redis is unreachable or not answering), so the task queue closed ` +
  'its Redis connections without waiting. Tasks still running were handed back only if Redis got the request.';

export const EVENT_LISTENER_FAILED = (queue: string, error: unknown, unlogged: number) =>
  `A task event listener of the queue "${queue}" failed: ${error instanceof Error ? error.message : safeString(error)}` +
  (unlogged > 0 ? ` (${unlogged} more listener failures were not logged)` : '') +
  '. The queue carries on; catch errors in the listener.';

export const UNKNOWN_TASK_EVENT = (option: string, value: unknown, names: readonly string[]) =>
  INVALID_OPTION(option, value, `one of ${names.map((n) => `"${n}"`).join(', ')}`, 'Check the event name.');

export const SCHEDULES_NOT_REGISTERED = (queue: string, error: unknown) =>
  `The schedules of the task queue "${queue}" could not be registered: ` +
  `${error instanceof Error ? error.message : safeString(error)}. Schedules already in Redis keep running; ` +
  'another instance, or the next boot, registers them again.';
