import { IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { MAX_ITEM_QUANTITY } from './cart.js';

export class CartItemDto {
  @IsString()
  @Matches(/^[1-9]\d{0,5}$/, { message: 'productId must be a positive integer written as a string' })
  productId: string;

  @IsInt()
  @Min(1)
  @Max(MAX_ITEM_QUANTITY)
  quantity: number;
}
