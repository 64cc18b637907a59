import { Injectable, Logger } from '@nestjs/common';
import {
  InjectLoadBalancedHttpClient,
  type LoadBalancedHttpClient,
  type LoadBalancedHttpResponse,
  InvalidLoadBalancerArgumentError,
  type LoadBalancedRequestOptions,
  NoAvailableNodeError,
} from '@nest-scale/load-balancer';
import { CacheEvict, Cached, type CacheWrapResult, MultiLevelCache } from '@nest-scale/multi-level-cache';
import { TrafficHistory } from '../history/traffic-history.js';
import { CATALOG_UPSTREAM, productKey } from './catalog.constants.js';
import { isProduct, type Product } from './product.js';
import type { UpdateProductDto } from './update-product.dto.js';
import { UpstreamUnavailableError } from './upstream-unavailable.error.js';

@Injectable()
export class CatalogService {
  private readonly logger = new Logger('Catalog');

  constructor(
    @InjectLoadBalancedHttpClient(CATALOG_UPSTREAM) private readonly upstream: LoadBalancedHttpClient,
    private readonly history: TrafficHistory,
    private readonly cache: MultiLevelCache,
  ) {}

  /** `null` when the product does not exist; cached too (negative caching), so unknown ids do not hammer upstreams. */
  @Cached({ key: (id: string) => productKey(id) })
  async getProduct(id: string): Promise<Product | null> {
    return this.fetchProduct(id);
  }

  /**
   * As `getProduct` (the same cache entry), with how it was answered: `hit`, `miss` (loaded now), or `stale` (the
   * fail-safe answered the last known product because the upstreams could not).
   */
  async getProductWithOutcome(id: string): Promise<CacheWrapResult<Product | null>> {
    const result = await this.cache.wrapWithOutcome(productKey(id), () => this.fetchProduct(id));
    if (result.value === null || isProduct(result.value)) return result;
    return { value: await this.replaceForeign(id), outcome: 'miss' };
  }

  /**
   * A cached entry that is not a product (written by another version or a tool, or corrupted) is dropped and the
   * product loaded again, once, instead of answering it (a BigInt would fail serialization: a 500 on every request).
   */
  async replaceForeign(id: string): Promise<Product | null> {
    this.logger.warn(`cached entry of product ${id} is not a product; dropped and loaded again`);
    await this.cache.del(productKey(id));
    return this.fetchProduct(id);
  }

  /** Bypasses the cache (a client's `Cache-Control: no-cache`). */
  async fetchProduct(id: string): Promise<Product | null> {
    const response = await this.send(`/products/${id}`, { method: 'GET' });
    if (response.status === 404) return null;
    return readProduct(response);
  }

  /** Writes through to the upstream, then removes the entry from every cache tier and every instance's L1. */
  @CacheEvict({ keys: (id: string) => [productKey(id)] })
  async updateProduct(id: string, changes: UpdateProductDto): Promise<Product | null> {
    const response = await this.send(`/products/${id}`, { method: 'PUT', body: changes });
    if (response.status === 404) return null;
    return readProduct(response);
  }

  /** Connection errors and timeouts after every retry surface as one error kind the HTTP layer maps to 503. */
  private async send(path: string, options: LoadBalancedRequestOptions): Promise<LoadBalancedHttpResponse> {
    const started = performance.now();
    try {
      const response = await this.upstream.request(path, options);
      this.history.recordUpstream(response.nodeId, performance.now() - started);
      return response;
    } catch (error) {
      // No node, or a request the client refused to send (a bug here, not an outage): not wrapped as unavailability.
      if (error instanceof NoAvailableNodeError || error instanceof InvalidLoadBalancerArgumentError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new UpstreamUnavailableError(`the catalog service could not be reached (${reason})`, { cause: error });
    }
  }
}

function readProduct(response: LoadBalancedHttpResponse): Product {
  if (response.status >= 500) {
    throw new UpstreamUnavailableError(`the catalog service answered ${response.status} on every try`);
  }
  if (!response.ok) throw new UpstreamUnavailableError(`the catalog service refused the request: ${response.text()}`);
  return response.json<Product>();
}
