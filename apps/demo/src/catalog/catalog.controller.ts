import { Body, Controller, Get, Headers, NotFoundException, Param, Put } from '@nestjs/common';
import { CatalogService } from './catalog.service.js';
import { ProductIdPipe } from './product-id.pipe.js';
import type { Product } from './product.js';
import { UpdateProductDto } from './update-product.dto.js';

@Controller('products')
export class CatalogController {
  constructor(private readonly catalog: CatalogService) {}

  @Get(':id')
  async find(
    @Param('id', ProductIdPipe) id: string,
    @Headers('cache-control') cacheControl: string | undefined,
  ): Promise<Product> {
    const fresh = cacheControl?.includes('no-cache') === true;
    const product = fresh ? await this.catalog.fetchProduct(id) : await this.catalog.getProduct(id);
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
