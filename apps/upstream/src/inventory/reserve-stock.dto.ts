import { IsInt, IsString, Length, Max, Min } from 'class-validator';

export class ReserveStockDto {
  @IsString()
  @Length(1, 100)
  orderId: string;

  @IsString()
  @Length(1, 20)
  productId: string;

  @IsInt()
  @Min(1)
  @Max(1000)
  quantity: number;
}
