import { MAX_PRIORITY } from './task-queue.constants.js';

/**
 * @internal Round-robin between groups as priorities (virtual time): the n-th waiting task of a group gets
 * priority n, counted from the lowest priority still waiting, so every group's next task sits at the head
 * together with the other groups' next tasks, whatever their backlog. A group that was idle starts again at that
 * head. Priorities stop at BullMQ's maximum, past which a group's further tasks are served first in first out.
 */
export function fairPriority(last: number | undefined, head: number): number {
  return Math.min(Math.max((last ?? 0) + 1, head), MAX_PRIORITY);
}

/**
 * @internal The same rule as one Redis script, atomic for every producer: KEYS[1] the queue's prioritized set
 * (BullMQ scores it `priority · 2^32 + counter`), KEYS[2] a hash of each group's last priority; ARGV the groups.
 */
export const FAIR_PRIORITY_SCRIPT = `
local head = 1
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if first[2] then head = math.floor(tonumber(first[2]) / 4294967296) end
local out = {}
for i = 1, #ARGV do
  local p = math.max(tonumber(redis.call('HGET', KEYS[2], ARGV[i]) or '0') + 1, head)
  if p > ${MAX_PRIORITY} then p = ${MAX_PRIORITY} end
  redis.call('HSET', KEYS[2], ARGV[i], p)
  out[i] = p
end
return out
`;
