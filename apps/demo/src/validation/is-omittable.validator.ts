import { ValidateIf } from 'class-validator';

/**
 * Like `@IsOptional()` for a property that may be left out, but not sent as `null`: class-validator's `IsOptional`
 * also skips `null`, which would then be stored.
 */
export function IsOmittable(): PropertyDecorator {
  return ValidateIf((_object, value) => value !== undefined);
}
