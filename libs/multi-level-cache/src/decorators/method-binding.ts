import { CachedMethodError } from '../errors/cached-method.error.js';
import { NOT_A_METHOD } from '../multi-level-cache.messages.js';

type Method = (...args: unknown[]) => unknown;

/** One application's implementation of a decorated method for one instance: `(this, arguments)`. @internal */
export type MethodBinding = (self: unknown, args: unknown[]) => unknown;

/** Where a trampoline finds its instance's binding, and the method it calls when there is none. @internal */
export interface Trampoline {
  readonly slot: symbol;
  readonly original: Method;
}

const trampolines = new WeakMap<object, Trampoline>();

/*
 * Nest's router keeps `instance[method]` as it is before any `onModuleInit`, so the explorer cannot replace methods
 * on the instance in time. Instead the decorator puts a trampoline on the prototype: it reads one property of `this`
 * (the binding the explorer sets at init) and calls it, or calls the original method when there is none (an
 * instance made outside Nest, a unit test, an app without the cache module). Each app's instances carry their own
 * binding, so two apps in one process never share a cache.
 */
export function installTrampoline(
  decorator: string,
  target: object,
  key: string | symbol,
  descriptor: PropertyDescriptor,
): void {
  const original: unknown = descriptor.value;
  if (typeof original !== 'function') {
    const owner = (target as { constructor?: { name?: string } }).constructor?.name ?? 'a class';
    throw new CachedMethodError(NOT_A_METHOD(decorator, `${owner}.${String(key)}`));
  }
  const slot = Symbol(`${decorator} ${String(key)}`);
  const method = original as Method;
  const trampoline = function (this: Record<symbol, MethodBinding | undefined> | undefined, ...args: unknown[]) {
    const bound = this?.[slot];
    return bound === undefined ? method.apply(this, args) : bound(this, args);
  };
  Object.defineProperty(trampoline, 'name', { value: method.name, configurable: true });
  Object.defineProperty(trampoline, 'length', { value: method.length, configurable: true });
  // Decorators applied before this one put their metadata on the original function.
  for (const metaKey of Reflect.getOwnMetadataKeys(method)) {
    Reflect.defineMetadata(metaKey, Reflect.getOwnMetadata(metaKey, method), trampoline);
  }
  trampolines.set(trampoline, { slot, original: method });
  descriptor.value = trampoline;
}

/** The trampoline behind a prototype method, if a cache decorator installed one. @internal */
export function trampolineOf(fn: unknown): Trampoline | undefined {
  return typeof fn === 'function' ? trampolines.get(fn) : undefined;
}

/** Gives `instance` its binding for the trampoline; false when it already has one (kept: first module wins). @internal */
export function bind(instance: object, trampoline: Trampoline, binding: MethodBinding): boolean {
  if (Object.hasOwn(instance, trampoline.slot)) return false;
  Object.defineProperty(instance, trampoline.slot, {
    value: binding,
    writable: false,
    configurable: true,
    enumerable: false,
  });
  return true;
}
