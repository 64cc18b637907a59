import { Body, Controller, Get, Header, NotFoundException, Param, Put } from '@nestjs/common';
import { ProductRepository } from './product.repository.js';
import type { Product } from './product.js';
import { UpdateProductDto } from './update-product.dto.js';

@Controller('products')
export class ProductsController {
  constructor(private readonly products: ProductRepository) {}

  @Get(':id')
  @Header('cache-control', 'no-store')
  async find(@Param('id') id: string): Promise<Product> {
    const product = await this.products.find(id);
    if (!product) throw new NotFoundException(`product ${id} does not exist (ids are 1..100)`);
    return product;
  }

  @Put(':id')
  async update(@Param('id') id: string, @Body() changes: UpdateProductDto): Promise<Product> {
    const product = await this.products.update(id, changes);
    if (!product) throw new NotFoundException(`product ${id} does not exist (ids are 1..100)`);
    return product;
  }
}
