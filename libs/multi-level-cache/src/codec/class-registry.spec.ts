import { CacheableClass } from '../decorators/cacheable-class.decorator.js';
import { CacheSerializationError } from '../errors/cache-serialization.error.js';
import { InvalidCacheOptionsError } from '../errors/invalid-cache-options.error.js';
import { registerCacheableClass } from './class-registry.js';
import { decodeValue, encodeValue } from './value-codec.js';

describe('cacheable class registry', () => {
  it('restores own data onto the prototype without calling the constructor or prototype setters', () => {
    let constructed = 0;
    let setterCalls = 0;
    @CacheableClass({ name: 'registry-spec.Account' })
    class Account {
      balance: bigint;
      constructor() {
        constructed++;
        this.balance = 0n;
      }
      set owner(_value: string) {
        setterCalls++;
      }
      get overdrawn(): boolean {
        return this.balance < 0n;
      }
    }
    const account = new Account();
    account.balance = -5n;
    Object.defineProperty(account, 'owner', { value: 'ada', enumerable: true, writable: true, configurable: true });
    const back = decodeValue(encodeValue(account)) as Account & { owner: string };
    expect(constructed).toBe(1);
    expect(setterCalls).toBe(0);
    expect(back).toBeInstanceOf(Account);
    expect(back.overdrawn).toBe(true);
    expect(Object.hasOwn(back, 'owner')).toBe(true);
    expect(back.owner).toBe('ada');
  });

  it('refuses a second class under a taken name, a renamed class and an empty name, naming the fix', () => {
    class First {}
    class Second {}
    registerCacheableClass(First, 'registry-spec.Taken');
    registerCacheableClass(First, 'registry-spec.Taken');
    expect(() => registerCacheableClass(Second, 'registry-spec.Taken')).toThrow(InvalidCacheOptionsError);
    expect(() => registerCacheableClass(Second, 'registry-spec.Taken')).toThrow(/must be unique.*distinct name/);
    expect(() => registerCacheableClass(First, 'registry-spec.Other')).toThrow(/must stay "registry-spec.Taken"/);
    expect(() => registerCacheableClass(Second, '')).toThrow(/non-empty string; got ""/);
  });

  it('registers exactly the class: a subclass, or a subclass of a built-in, is refused with its path', () => {
    @CacheableClass({ name: 'registry-spec.Base' })
    class Base {
      n = 1;
    }
    class Derived extends Base {}
    @CacheableClass({ name: 'registry-spec.Tagged' })
    class TaggedMap extends Map<string, number> {}
    expect(() => encodeValue({ d: new Derived() })).toThrow(/\$\.d: an instance of Derived.*@CacheableClass\(\)/);
    let error: unknown;
    try {
      encodeValue([new TaggedMap([['a', 1]])]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CacheSerializationError);
    expect((error as CacheSerializationError).path).toBe('$[0]');
    expect((error as Error).message).toMatch(/TaggedMap keeps its data in a built-in type/);
  });

  it('fails to decode a class this process has not registered (a miss for the reader, not a wrong type)', () => {
    expect(() => decodeValue('{"$C":["registry-spec.Unknown",{"a":1}]}')).toThrow(/not registered/);
    expect(() => decodeValue('{"$C":[1,{}]}')).toThrow(SyntaxError);
    expect(() => decodeValue('{"a":{"$h":0}}')).toThrow(/hole/);
    expect(() => decodeValue('{"$O":[1]}')).toThrow(SyntaxError);
  });
});
