import type { Attributes } from '@opentelemetry/api';
import { errorType } from './task-spans.js';
import {
  ATTR_DESTINATION,
  ATTR_ERROR_TYPE,
  ATTR_OPERATION_NAME,
  ATTR_OPERATION_TYPE,
  ATTR_SYSTEM,
  ATTR_TASK,
  MAX_ERROR_TYPES,
  MAX_TASK_NAMES,
  OTHER,
  SYSTEM,
} from './telemetry-names.js';

/**
 * @internal The counters and attribute objects of one task name on one queue, built once: recording a point
 * allocates nothing. The counters are plain fields that the observable counters read at collection time.
 */
export class TaskSeries {
  sent = 0;
  consumed = 0;
  retries = 0;
  dead = 0;
  /** Failed enqueues, by their attributes (with `error.type`). */
  readonly sentErrors = new Map<Attributes, number>();
  /** `messaging.destination.name`, `messaging.operation.name` (the task name). */
  readonly attributes: Attributes;
  readonly sendSpan: Attributes;
  readonly processSpan: Attributes;
  private readonly errorAttributes = new Map<string, Attributes>();

  constructor(queue: string, name: string) {
    this.attributes = { [ATTR_DESTINATION]: queue, [ATTR_OPERATION_NAME]: name };
    const span = { [ATTR_SYSTEM]: SYSTEM, [ATTR_DESTINATION]: queue, [ATTR_TASK]: name };
    this.sendSpan = { ...span, [ATTR_OPERATION_NAME]: 'send', [ATTR_OPERATION_TYPE]: 'send' };
    this.processSpan = { ...span, [ATTR_OPERATION_NAME]: 'process', [ATTR_OPERATION_TYPE]: 'process' };
  }

  /** The metric attributes of a failure: these plus `error.type` (bounded: past 64 kinds, `_OTHER`). */
  failureAttributes(error: unknown): Attributes {
    return this.attributesOfType(errorType(error));
  }

  sendFailed(error: unknown): void {
    const attributes = this.failureAttributes(error);
    this.sentErrors.set(attributes, (this.sentErrors.get(attributes) ?? 0) + 1);
  }

  private attributesOfType(type: string): Attributes {
    let attributes = this.errorAttributes.get(type);
    if (attributes === undefined) {
      if (this.errorAttributes.size >= MAX_ERROR_TYPES && type !== OTHER) return this.attributesOfType(OTHER);
      attributes = { ...this.attributes, [ATTR_ERROR_TYPE]: type };
      this.errorAttributes.set(type, attributes);
    }
    return attributes;
  }
}

/** @internal Every task name's series of one queue; names past MAX_TASK_NAMES share one `_OTHER` series. */
export class TaskSeriesMap {
  private readonly byName = new Map<string, TaskSeries>();

  constructor(private readonly queue: string) {}

  of(name: string): TaskSeries {
    let series = this.byName.get(name);
    if (series === undefined) {
      const key = this.byName.size < MAX_TASK_NAMES ? name : OTHER;
      series = this.byName.get(key) ?? new TaskSeries(this.queue, key);
      this.byName.set(key, series);
    }
    return series;
  }

  values(): IterableIterator<TaskSeries> {
    return this.byName.values();
  }
}
