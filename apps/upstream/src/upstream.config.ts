import type { FaultSettings } from './faults/fault-settings.js';

/** Per-node configuration; `faults` is mutable at run time through PUT /faults. */
export class UpstreamConfig {
  constructor(
    readonly nodeId: string,
    readonly faults: FaultSettings,
  ) {}
}
