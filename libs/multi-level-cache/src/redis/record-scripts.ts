/** The Lua scripts of the Redis tier: each step that must be atomic on the server. @internal */

export const RELEASE_LEASE =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/**
 * Takes the lease, or takes over one that cannot be ours: without expiry (PTTL -1), of another type, or whose value
 * is not a token (`<origin>:<n>`). Returns 1 taken, 0 held by another instance, 10 + n taken over (n: the reason).
 */
export const TRY_LEASE = `
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
local foreign = 0
if redis.call('type', KEYS[1]).ok ~= 'string' then foreign = 1
elseif redis.call('pttl', KEYS[1]) == -1 then foreign = 2
elseif not string.match(redis.call('get', KEYS[1]), '^[%w%-]+:%d+$') then foreign = 3 end
if foreign == 0 then return 0 end
redis.call('del', KEYS[1])
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 10 + foreign`;
export const FOREIGN_LEASE_KINDS = ['', 'is not a string', 'has no expiry', 'does not hold a lease token'];

/**
 * Compare-and-set of a record: writes ARGV[1] (PX ARGV[2]) only if the key holds ARGV[3] ('' = nothing), and then
 * publishes ARGV[5] on ARGV[4] (when given) in the same atomic step.
 */
export const WRITE_IF_UNCHANGED = `
local current = redis.call('get', KEYS[1])
if ARGV[3] == '' then
  if current then return 0 end
elseif current ~= ARGV[3] then return 0 end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
if ARGV[4] ~= '' then redis.call('publish', ARGV[4], ARGV[5]) end
return 1`;

/** The namespace's tag epoch; a key of another type (not ours) is replaced. */
export const EPOCH = `
local kind = redis.call('type', KEYS[1]).ok
if kind == 'string' then return redis.call('get', KEYS[1]) end
if kind ~= 'none' then redis.call('del', KEYS[1]) end
redis.call('set', KEYS[1], ARGV[1])
return ARGV[1]`;

/**
 * Bumps tag counters (KEYS but the last; the last is the epoch) and publishes ARGV[3] on ARGV[2] (when given),
 * atomically. A counter that is not an integer (not ours) is reset, and the epoch with it, so no version recorded
 * before can match again.
 */
export const BUMP_TAGS = `
local reset = false
for i = 1, #KEYS - 1 do
  local bumped = redis.pcall('incr', KEYS[i])
  if type(bumped) == 'table' and bumped.err then
    redis.call('del', KEYS[i])
    redis.call('set', KEYS[i], '1')
    reset = true
  end
end
if reset then redis.call('set', KEYS[#KEYS], ARGV[1]) end
if ARGV[2] ~= '' then redis.call('publish', ARGV[2], ARGV[3]) end
return reset and 1 or 0`;
