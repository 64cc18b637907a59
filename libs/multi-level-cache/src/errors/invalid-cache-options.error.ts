/**
 * `MultiLevelCacheModule` options, or per-call options, are invalid. The message names the option.
 * @publicApi
 */
export class InvalidCacheOptionsError extends Error {
  override readonly name = 'InvalidCacheOptionsError';

  constructor(
    message: string,
    /** The offending option, e.g. `l1.maxEntries`. */
    readonly option: string,
  ) {
    super(message);
  }
}
