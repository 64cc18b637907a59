import { isIP, ValidateBy, type ValidationOptions } from 'class-validator';

/** A DNS name of letter-digit-hyphen labels (RFC 1123), at most 253 characters. */
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** A bare host: a DNS name or an IP address, with no scheme, port, path or spaces. */
export function isHost(value: unknown): value is string {
  return typeof value === 'string' && (HOSTNAME.test(value) || isIP(value));
}

/** A bare host: a DNS name or an IP address, with no scheme, port, path or spaces. */
export function IsHost(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isHost',
      validator: {
        validate: isHost,
        defaultMessage: (args) =>
          `${args?.property ?? 'host'} must be a bare host name or IP address (e.g. "10.0.0.7" or "catalog-3.internal"), with no scheme, port or path`,
      },
    },
    options,
  );
}
