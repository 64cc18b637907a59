import { request } from 'undici';
import type { UpstreamNode } from '../node/upstream-node.js';
import { HealthChecker } from './health-checker.js';

/** GET `http://host:port<path>`; healthy on 2xx or 3xx. @publicApi */
export class HttpHealthChecker extends HealthChecker {
  constructor(
    private readonly path = '/health',
    private readonly protocol: 'http' | 'https' = 'http',
  ) {
    super();
  }

  async check(node: UpstreamNode, signal: AbortSignal): Promise<boolean> {
    const host = node.host.includes(':') ? `[${node.host}]` : node.host;
    const response = await request(`${this.protocol}://${host}:${node.port}${this.path}`, { method: 'GET', signal });
    await response.body.dump();
    return response.statusCode >= 200 && response.statusCode < 400;
  }
}
