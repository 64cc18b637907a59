import { UNSERIALIZABLE_PAYLOAD } from '../task-queue.messages.js';

/** @publicApi Thrown by `enqueue` when the payload would not survive a JSON round trip unchanged. */
export class UnserializablePayloadError extends Error {
  override readonly name = 'UnserializablePayloadError';

  constructor(
    readonly taskName: string,
    readonly path: string,
    readonly reason: string,
  ) {
    super(UNSERIALIZABLE_PAYLOAD(taskName, path, reason));
  }
}
