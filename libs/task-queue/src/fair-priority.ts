import { MAX_PRIORITY } from './task-queue.constants.js';

/**
 * @internal Round-robin between groups as priorities (virtual time): the n-th waiting task of a group gets
 * priority n, counted from the current round, so every group's next task sits at the head together with the other
 * groups' next tasks, whatever their backlog. The current round is the lowest priority still waiting or, with
 * nothing waiting, the round after every priority given so far (all of them were served). A group that was idle
 * starts again at that round. Priorities stop at BullMQ's maximum, past which a group's tasks are served first in
 * first out.
 */
export function fairPriority(last: number | undefined, lowestWaiting: number | undefined, highestGiven: number): number {
  const round = lowestWaiting ?? highestGiven + 1;
  return Math.min(Math.max((last ?? 0) + 1, round), MAX_PRIORITY);
}

/**
 * @internal The same rule as one Redis script, atomic for every producer: KEYS[1] the queue's prioritized set
 * (BullMQ scores it `priority · 2^32 + counter`), KEYS[2] a hash of each group's last priority, KEYS[3] the highest
 * priority given so far; ARGV the groups.
 */
export const FAIR_PRIORITY_SCRIPT = `
local highest = tonumber(redis.call('GET', KEYS[3]) or '0')
local lowest = nil
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if first[2] then lowest = math.floor(tonumber(first[2]) / 4294967296) end
local out = {}
for i = 1, #ARGV do
  local p = math.max(tonumber(redis.call('HGET', KEYS[2], ARGV[i]) or '0') + 1, lowest or (highest + 1))
  if p > ${MAX_PRIORITY} then p = ${MAX_PRIORITY} end
  redis.call('HSET', KEYS[2], ARGV[i], p)
  if p > highest then highest = p end
  -- The tasks of this call wait too (they are added right after): they count for the round.
  if lowest == nil or p < lowest then lowest = p end
  out[i] = p
end
redis.call('SET', KEYS[3], highest)
return out
`;
