/**
 * A value (or a `@Cached` argument) cannot be encoded faithfully: a function, a symbol, a circular reference or an
 * instance of a class the codec does not know. Nothing is written when this is thrown.
 * @publicApi
 */
export class CacheSerializationError extends Error {
  override readonly name = 'CacheSerializationError';

  constructor(
    message: string,
    /** Where in the value the problem is, e.g. `$.user.tags[2]`. */
    readonly path: string,
  ) {
    super(message);
  }
}
