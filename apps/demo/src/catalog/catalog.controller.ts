import { Body, Controller, Get, Headers, NotFoundException, Param, Put, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { CatalogService } from './catalog.service.js';
import { ProductIdPipe } from './product-id.pipe.js';
import type { Product } from './product.js';
import { UpdateProductDto } from './update-product.dto.js';

@Controller('products')
export class CatalogController {
  constructor(private readonly catalog: CatalogService) {}

  /** `X-Cache: HIT | MISS | STALE` says how it was answered (STALE: the upstreams failed, the last known product). */
  @Get(':id')
  async find(
    @Param('id', ProductIdPipe) id: string,
    @Headers('cache-control') cacheControl: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Product> {
    const fresh = cacheControl?.includes('no-cache') === true;
    const { value: product, outcome } = fresh
      ? { value: await this.catalog.fetchProduct(id), outcome: 'miss' as const }
      : await this.catalog.getProductWithOutcome(id);
    reply.header('x-cache', outcome.toUpperCase());
    if (!product) throw new NotFoundException(`product ${id} does not exist`);
    return product;
  }

  @Put(':id')
  async update(@Param('id', ProductIdPipe) id: string, @Body() changes: UpdateProductDto): Promise<Product> {
    const product = await this.catalog.updateProduct(id, changes);
    if (!product) throw new NotFoundException(`product ${id} does not exist`);
    return product;
  }
}
