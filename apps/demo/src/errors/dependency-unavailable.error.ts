/**
 * A dependency the request needs (the order store, the task queue, the upstreams) could not be reached. Answered as
 * 503 with `Retry-After`, naming the dependency; never a 500.
 */
export class DependencyUnavailableError extends Error {
  override readonly name = 'DependencyUnavailableError';

  constructor(
    readonly dependency: string,
    cause: unknown,
  ) {
    super(`${dependency} unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Runs `operation`; any failure of it becomes a `DependencyUnavailableError` for `dependency`. */
export async function requireDependency<T>(dependency: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw error instanceof DependencyUnavailableError ? error : new DependencyUnavailableError(dependency, error);
  }
}
