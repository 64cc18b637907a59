import { IsInt, IsString, Length, Matches, Max, Min } from 'class-validator';
import { IsHost } from '../validation/is-host.validator.js';
import { IsOmittable } from '../validation/is-omittable.validator.js';

export class AddNodeDto {
  @IsOmittable()
  @IsString()
  @Length(1, 100)
  @Matches(/^[\w.:-]+$/, { message: 'id may hold letters, digits and . : - _ only' })
  id?: string;

  @IsHost()
  host: string;

  @IsInt()
  @Min(1)
  @Max(65535)
  port: number;

  @IsOmittable()
  @IsInt()
  @Min(0)
  @Max(1000)
  weight?: number;
}
