import { BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';

/** Product ids are positive integers; anything else is refused before it reaches the cache or an upstream. */
@Injectable()
export class ProductIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!/^[1-9]\d{0,5}$/.test(value)) {
      throw new BadRequestException(
        `product id "${value.slice(0, 40)}" is not valid: use a positive integer, e.g. /products/42`,
      );
    }
    return value;
  }
}
