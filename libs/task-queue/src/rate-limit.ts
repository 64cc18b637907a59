/**
 * @internal A fixed-window rate limit, in process (memory driver): how long a run must wait, 0 when it may start
 * now (and then it is counted).
 */
export class RateWindow {
  private window = -1;
  private count = 0;

  constructor(private readonly limit: { max: number; perMs: number }) {}

  waitMs(now: number): number {
    const window = Math.floor(now / this.limit.perMs);
    if (window !== this.window) {
      this.window = window;
      this.count = 0;
    }
    if (this.count < this.limit.max) {
      this.count++;
      return 0;
    }
    return (window + 1) * this.limit.perMs - now;
  }
}

/**
 * @internal The same window in Redis, on Redis's clock so that every worker counts alike. KEYS[1] a hash of the
 * current window and its count; ARGV max, perMs. Returns 0 (counted: start now) or the ms until the next window.
 */
export const RATE_WINDOW_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local perMs = tonumber(ARGV[2])
local window = math.floor(now / perMs)
if tonumber(redis.call('HGET', KEYS[1], 'w') or '-1') ~= window then
  redis.call('HSET', KEYS[1], 'w', window, 'n', 0)
  redis.call('PEXPIRE', KEYS[1], perMs * 2)
end
if tonumber(redis.call('HGET', KEYS[1], 'n')) < tonumber(ARGV[1]) then
  redis.call('HINCRBY', KEYS[1], 'n', 1)
  return 0
end
return (window + 1) * perMs - now
`;
