/** @publicApi What `enqueue` returns. */
export interface TaskRef {
  readonly id: string;
  readonly name: string;
}
