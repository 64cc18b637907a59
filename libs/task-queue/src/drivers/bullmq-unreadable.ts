import type { IoRedisEval } from './bullmq-connection.js';

/**
 * Hash fields this module adds to a job it found unreadable: the reason, and the original `opts` text. They mark the
 * job for good, so a retry from anywhere (bull-board's button, a raw `job.retry()`) fails it again without running.
 */
export const UNREADABLE_FIELD = 'nsUnreadable';
const UNREADABLE_OPTS_FIELD = 'nsUnreadableOpts';

/** What was wrong with a job's hash: the raw text of each field that is not valid JSON. */
export interface UnreadableFields {
  readonly data?: string | undefined;
  readonly opts?: string | undefined;
}

/**
 * Replaces each unreadable field only if it still holds the text that was read (a job rewritten meanwhile is left
 * alone), keeps the original `opts` text beside it, and marks the job. KEYS[1] job hash; ARGV: reason, then field,
 * expected text, replacement, [copy field] per field.
 */
const REPAIR_SCRIPT = `
local repaired = 0
local i = 2
while i <= #ARGV do
  local field, expected, replacement, copy = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if redis.call('HGET', KEYS[1], field) == expected then
    redis.call('HSET', KEYS[1], field, replacement)
    if copy ~= '' then redis.call('HSET', KEYS[1], copy, expected) end
    repaired = repaired + 1
  end
  i = i + 4
end
if repaired > 0 then redis.call('HSET', KEYS[1], '${UNREADABLE_FIELD}', ARGV[1]) end
return repaired`;

/**
 * Makes an unreadable job's hash readable by BullMQ and every other reader (bull-board's lists parse each job, and
 * one bad job made the whole page fail), losing nothing: `data` becomes a JSON string holding the original text (so
 * the payload reads back as exactly that text), `opts` becomes `{}` with the original kept in `nsUnreadableOpts`.
 * Resolves with the number of fields replaced.
 */
export async function repairUnreadableJob(
  client: IoRedisEval,
  jobKey: string,
  fields: UnreadableFields,
  reason: string,
): Promise<number> {
  const args: string[] = [reason];
  if (fields.data !== undefined) args.push('data', fields.data, JSON.stringify(fields.data), '');
  if (fields.opts !== undefined) args.push('opts', fields.opts, '{}', UNREADABLE_OPTS_FIELD);
  if (args.length === 1) return 0;
  return Number(await client.eval(REPAIR_SCRIPT, 1, jobKey, ...args));
}

/** The fields of a raw job hash that are not valid JSON (`data` and `opts` are JSON when BullMQ writes them). */
export function unreadableFields(raw: Record<string, string>): UnreadableFields {
  const invalid = (text: string | undefined) => {
    if (text === undefined) return false;
    try {
      JSON.parse(text);
      return false;
    } catch {
      return true;
    }
  };
  return {
    ...(invalid(raw.data) ? { data: raw.data } : {}),
    ...(invalid(raw.opts) ? { opts: raw.opts } : {}),
  };
}
