/** Message factories: each says what is wrong and how to fix it. @internal */

export const INVALID_OPTION = (option: string, value: unknown, expected: string) =>
  `\`${option}\` must be ${expected}; got ${shown(value)}. Fix it in the options passed to MultiLevelCacheModule.forRoot/forRootAsync (or to the call).`;

export const UNKNOWN_OPTION = (key: string, suggestion: string | undefined, known: readonly string[]) =>
  `MultiLevelCacheModule has no option \`${key}\`` +
  (suggestion === undefined ? '.' : `: did you mean \`${suggestion}\`?`) +
  ` Known options: ${known.join(', ')}. Fix its name or remove it from the options passed to ` +
  'MultiLevelCacheModule.forRoot/forRootAsync (a misspelled option would otherwise be ignored).';

export const UNKNOWN_KEY = (path: string, key: string, suggestion: string | undefined, known: readonly string[]) =>
  `\`${path}\` has no key "${key}"` +
  (suggestion === undefined ? '.' : `: did you mean "${suggestion}"?`) +
  ` Known keys: ${known.join(', ')}. Fix its name or remove it (a misspelled key would otherwise be ignored).`;

export const MALFORMED_RECORD = (namespace: string, key: string, problem: string) =>
  `Redis entry "${namespace}::${key}" is not a record this cache can trust (${problem}); it counts as a miss and the loader's value replaces it. Another writer (or another version of this cache) may share the namespace "${namespace}": give each application its own namespace. Logged once per kind.`;

export const IGNORED_BUS_MESSAGE = (channel: string, problem: string) =>
  `A message on "${channel}" was ignored (${problem}). Instances of another version, or another program, publish on this channel: give each application (and each incompatible version) its own namespace. Counted in stats().bus.ignored; logged once per kind.`;

export const FOREIGN_LEASE = (key: string, problem: string) =>
  `Lease key "${key}" ${problem}; it was taken over as if it had expired. Another program writes under this cache's namespace: give the cache its own namespace. Logged once.`;

export const NOT_A_PROMISE = (method: string, got: unknown) =>
  `@Cached/@CacheEvict on ${method} needs a method that returns a Promise, but it returned ${describe(got)}. Make the method async (or return a Promise), or remove the decorator. Nothing was cached.`;

export const DECLARED_NOT_A_PROMISE = (method: string, type: string) =>
  `@Cached/@CacheEvict on ${method} needs a method that returns a Promise, but its declared return type is ${type}. Make the method async, or remove the decorator.`;

export const REQUEST_SCOPED = (method: string) =>
  `@Cached/@CacheEvict on ${method} is not supported: the provider is request-scoped (or depends on one), so its instances are created per request and never wrapped. Move the cached method to a singleton provider, or call MultiLevelCache.wrap() in the method.`;

export const CACHED_AND_EVICT = (method: string) =>
  `${method} has both @Cached and @CacheEvict. A method either reads through the cache or invalidates it; split it in two.`;

export const DUPLICATE_CLASS_NAME = (name: string, method: string) =>
  `Two different classes named ${name} use @Cached on "${method}" with the default key, so their entries would collide. Give one of them a custom key: @Cached({ key: (...args) => '…' }), or rename a class.`;

export const BAD_KEY = (method: string, got: unknown) =>
  `The key function of @Cached on ${method} returned ${describe(got)}; it must return a non-empty string.`;

/** A value as JSON where that is exact, else String() (NaN, Infinity, bigint, undefined). */
function shown(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint' || typeof value === 'undefined' || typeof value === 'function') return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return describe(value);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'no prototype'})`;
  return `${typeof value} ${String(value)}`;
}

export const UNENCODABLE_VALUE = (path: string, reason: string) =>
  `Cannot cache the value at ${path}: ${reason}. Cache plain data (objects, arrays, strings, numbers, booleans, null, undefined, Date, BigInt, Map, Set, Buffer, Uint8Array, RegExp, instances of classes registered with @CacheableClass()) without cycles, or map it to such data first. Nothing was written.`;

export const UNREGISTERED_CLASS = (name: string) =>
  `an instance of ${name} cannot be restored with its type: register the class with @CacheableClass() (or registerCacheableClass(${name})) so it comes back with its prototype, or return plain data`;

export const CACHEABLE_CLASS_NAME_TAKEN = (name: string) =>
  `\`@CacheableClass\` name must be unique; got ${JSON.stringify(name)}, already registered for another class. Give one of them a distinct name: @CacheableClass({ name: 'billing.${name}' }).`;

export const CACHEABLE_CLASS_BAD_NAME = (got: unknown) =>
  `\`@CacheableClass\` name must be a non-empty string; got ${typeof got === 'string' ? JSON.stringify(got) : String(got)}. Pass { name: 'Product' }, or omit it to use the class name.`;

export const UNKEYABLE_VALUE = (path: string, reason: string) =>
  `Cannot derive a cache key from the argument value at ${path}: ${reason}`;

export const UNKEYABLE_ARGUMENT = (method: string, position: number, reason: string) =>
  `@Cached on ${method} cannot derive a key from its argument at index ${position} (${reason}). The method now runs uncached for such calls (warned once). Give @Cached a key: @Cached({ key: (...args) => '…' }) that picks the data identifying the call.`;

export const UNCACHEABLE_RESULT = (method: string, reason: string) =>
  `@Cached on ${method} returned a value it cannot cache (${reason}); the value is returned uncached (warned once). Register its classes with @CacheableClass(), or return plain data.`;

export const CACHEABLE_CLASS_RENAMED = (className: string, registered: string, got: string) =>
  `\`@CacheableClass\` name of ${className} must stay ${JSON.stringify(registered)}, the name it was registered with; got ${JSON.stringify(got)}. Register each class once.`;

export const NOT_A_METHOD = (decorator: string, member: string) =>
  `${decorator} on ${member} needs a method; it was put on a property or accessor. Move it to an async method.`;

export const DECORATOR_OPTION = (decorator: string, method: string, message: string) =>
  `${decorator} on ${method}: ${message}`;

export const UNSUPPORTED_CACHE_MODULE_OPTION = (option: string, value: unknown, instead: string) =>
  `\`${option}\` must be left out of CacheModule.register/registerAsync options; got ${shown(value)}. It is ${instead}.`;

export const UNCACHEABLE_ANSWER = (key: string, reason: string) =>
  `CacheInterceptor: the answer of "${key}" was sent uncached (${reason}) Return plain data from the route (copy framework objects such as Fastify's request.query with { ...query }), or register its classes with @CacheableClass(). Logged once per route.`;

export const FAIL_SAFE_ANSWERS = (key: string, reason: string, count: number) =>
  `Fail-safe: answered the last known value of "${key}" because ${reason}. ${count} fail-safe answer(s) since the last such line (logged at most once per 10 s; counted in stats().failSafeHits). Fix the source, or lower failSafeMaxMs to stop answering old values sooner.`;

export const UNKNOWN_CACHE = (decorator: string, method: string, name: string) =>
  `${decorator} on ${method} names the cache ${JSON.stringify(name)}, but no MultiLevelCacheModule.forRoot({ name: ${JSON.stringify(name)} }) is registered in this application. Register it, or fix the name (or leave \`cache\` out to use the default cache).`;
