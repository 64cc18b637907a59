import { IsInt, IsString, Length, Max, Min } from 'class-validator';
import { IsOmittable } from '../validation/is-omittable.validator.js';

/** Each field may be left out; none may be `null`. */
export class UpdateProductDto {
  @IsOmittable()
  @IsString()
  @Length(1, 200)
  name?: string;

  @IsOmittable()
  @IsInt()
  @Min(0)
  @Max(100_000_000)
  priceCents?: number;

  @IsOmittable()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  stock?: number;
}
