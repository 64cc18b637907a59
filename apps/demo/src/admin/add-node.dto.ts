import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';

export class AddNodeDto {
  @IsOptional()
  @IsString()
  @Length(1, 100)
  id?: string;

  @IsString()
  @Length(1, 255)
  host: string;

  @IsInt()
  @Min(1)
  @Max(65535)
  port: number;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1000)
  weight?: number;
}
