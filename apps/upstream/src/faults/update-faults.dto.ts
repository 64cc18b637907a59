import { IsNumber, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import type { FaultSettings } from './fault-settings.js';

export class UpdateFaultsDto implements Partial<FaultSettings> {
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(60_000)
  latencyMs?: number;

  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(60_000)
  jitterMs?: number;

  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  failureRate?: number;

  @IsOptional()
  @IsString()
  @Matches(/^(\/[\w./-]*)?$/, { message: "pathPrefix must be '' or a path such as '/inventory'" })
  pathPrefix?: string;
}
