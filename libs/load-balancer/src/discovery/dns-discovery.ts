import { lookup } from 'node:dns/promises';
import type { NodeConfig } from '../interfaces/node-config.interface.js';
import { validateDnsDiscoveryOptions } from '../load-balancer-options.validator.js';
import { NodeDiscovery } from './node-discovery.js';

/** @publicApi */
export interface DnsDiscoveryOptions {
  hostname: string;
  port: number;
  weight?: number;
  /** Default 30 000 ms. */
  refreshIntervalMs?: number;
}

/**
 * Every address `hostname` resolves to (A and AAAA) becomes a node `address:port`. Re-resolved periodically, so
 * scale-ups are seen without waiting for a connection to fail (the gRPC round_robin weakness).
 * @publicApi
 */
export class DnsDiscovery extends NodeDiscovery {
  override readonly refreshIntervalMs: number;

  constructor(private readonly options: DnsDiscoveryOptions) {
    super();
    validateDnsDiscoveryOptions(options);
    this.refreshIntervalMs = options.refreshIntervalMs ?? 30_000;
  }

  async resolve(): Promise<NodeConfig[]> {
    const addresses = await lookup(this.options.hostname, { all: true });
    return addresses.map(({ address }) => ({
      id: `${address}:${this.options.port}`,
      host: address,
      port: this.options.port,
      weight: this.options.weight ?? 1,
    }));
  }
}
