import { Inject, Injectable, Logger, Optional, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModuleRef } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { bind, trampolineOf } from './decorators/method-binding.js';
import { CachedMethodError } from './errors/cached-method.error.js';
import type { CachedOptions, CacheEvictOptions } from './interfaces/cached-options.interface.js';
import { cachedBinding, evictBinding } from './multi-level-cache.bindings.js';
import { CACHE_EVICT_METADATA, CACHED_METADATA } from './multi-level-cache.constants.js';
import {
  CACHED_AND_EVICT,
  DECLARED_NOT_A_PROMISE,
  DUPLICATE_CLASS_NAME,
  REQUEST_SCOPED,
  UNKNOWN_CACHE,
} from './multi-level-cache.messages.js';
import { invalidOption } from './multi-level-cache.options.js';
import { MultiLevelCache } from './multi-level-cache.service.js';
import { getCacheToken } from './multi-level-cache.tokens.js';

/** Never provided: the default cache's explorer has no name; a named cache's module passes its name. */
const CACHE_NAME = 'nest_scale:cache_name';

/**
 * Finds `@Cached` / `@CacheEvict` methods on every provider and controller at init and gives each instance a binding
 * to this application's `MultiLevelCache`, which the decorator's prototype trampoline calls (routes included: the
 * router holds the trampoline). The prototype itself is never changed here. Each cache module has its explorer: the
 * default cache's binds the methods without a `cache` option, a named cache's those with `cache: <its name>`.
 * @internal
 */
@Injectable()
export class MultiLevelCacheExplorer implements OnModuleInit {
  private readonly logger = new Logger('MultiLevelCache');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly cache: MultiLevelCache,
    private readonly modules: ModuleRef,
    @Optional() @Inject(CACHE_NAME) private readonly name?: string,
  ) {}

  onModuleInit(): void {
    const classNames = new Map<string, unknown>();
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const proto = prototypeOf(wrapper);
      if (!proto) continue;
      for (const name of this.scanner.getAllMethodNames(proto)) {
        const fn = (proto as Record<string, unknown>)[name];
        const trampoline = trampolineOf(fn);
        if (!trampoline) continue;
        const cached = Reflect.getMetadata(CACHED_METADATA, fn as object) as CachedOptions | undefined;
        const evict = Reflect.getMetadata(CACHE_EVICT_METADATA, fn as object) as CacheEvictOptions | undefined;
        if (!cached && !evict) continue;
        const className = (proto.constructor as { name?: string }).name || 'Anonymous';
        const label = `${className}.${name}`;
        const target = (cached ?? evict)?.cache;
        if (target !== this.name) {
          this.checkCacheExists(target, cached ? '@Cached' : '@CacheEvict', label);
          continue;
        }
        if (cached && evict) throw new CachedMethodError(CACHED_AND_EVICT(label));
        if (!wrapper.isDependencyTreeStatic()) throw new CachedMethodError(REQUEST_SCOPED(label));
        checkDeclaredReturnType(proto, name, label);
        if (cached && !cached.key) {
          const seen = classNames.get(className);
          if (seen !== undefined && seen !== proto.constructor)
            throw new CachedMethodError(DUPLICATE_CLASS_NAME(className, name));
          classNames.set(className, proto.constructor);
        }
        const binding = cached
          ? cachedBinding(this.cache, this.logger, trampoline.original, cached, label)
          : evictBinding(this.cache, trampoline.original, evict as CacheEvictOptions, label);
        for (const instance of instancesOf(wrapper)) bind(instance, trampoline, binding);
      }
    }
  }

  /** A `cache` option naming no registered cache would leave the method silently uncached. */
  private checkCacheExists(target: unknown, decorator: string, label: string): void {
    if (target === undefined) return;
    if (typeof target !== 'string' || target.length === 0)
      invalidOption(`${decorator}(${label}).cache`, target, 'the name of a cache registered with forRoot({ name })');
    try {
      this.modules.get(getCacheToken(target), { strict: false });
    } catch {
      throw new CachedMethodError(UNKNOWN_CACHE(decorator, label, target));
    }
  }
}

function prototypeOf(wrapper: InstanceWrapper): object | undefined {
  const instance: unknown = wrapper.instance;
  if (instance && typeof instance === 'object') {
    const proto: unknown = Object.getPrototypeOf(instance);
    return proto && proto !== Object.prototype ? (proto as object) : undefined;
  }
  const metatype = wrapper.metatype as { prototype?: unknown } | null;
  return typeof metatype === 'function' && metatype.prototype && typeof metatype.prototype === 'object'
    ? (metatype.prototype as object)
    : undefined;
}

function instancesOf(wrapper: InstanceWrapper): object[] {
  const all: unknown[] = wrapper.isTransient
    ? wrapper.getStaticTransientInstances().map((ctx) => ctx?.instance)
    : [wrapper.instance];
  return all.filter((i): i is object => typeof i === 'object' && i !== null);
}

/** TypeScript records the declared return type; SWC/tsc emit `Promise` for async methods. */
function checkDeclaredReturnType(proto: object, name: string, label: string): void {
  const type: unknown = Reflect.getMetadata('design:returntype', proto, name);
  if (typeof type === 'function' && type !== Promise && type !== Object)
    throw new CachedMethodError(DECLARED_NOT_A_PROMISE(label, type.name));
}
