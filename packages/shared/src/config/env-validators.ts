import { ValidateBy, ValidationOptions } from 'class-validator';
import { parseKeyList, parseNamedKey, parseSecretKey } from '../encryption/encryption-keys';
import { parseGraceDays } from './grace-days';

function fromParser(name: string, parse: (value: string) => unknown, options?: ValidationOptions) {
  return ValidateBy(
    {
      name,
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string') return false;
          try {
            parse(value);
            return true;
          } catch {
            return false;
          }
        },
        // The parser's own reason, never the value: these variables hold secrets.
        defaultMessage: (args) => {
          try {
            parse(String(args?.value ?? ''));
            return `${args?.property} is invalid`;
          } catch (error) {
            return `${args?.property} ${(error as Error).message}`;
          }
        },
      },
    },
    options,
  );
}

/** `<key id>:<base64 of 32 bytes>`. */
export const IsNamedEncryptionKey = (options?: ValidationOptions) =>
  fromParser('isNamedEncryptionKey', parseNamedKey, options);

/** A comma-separated list of `<key id>:<base64 of 32 bytes>`, possibly empty. */
export const IsEncryptionKeyList = (options?: ValidationOptions) =>
  fromParser('isEncryptionKeyList', parseKeyList, options);

/** Base64 of 32 random bytes. */
export const IsSecretKey = (options?: ValidationOptions) =>
  fromParser('isSecretKey', parseSecretKey, options);

/** A URL whose scheme is one of `protocols` (e.g. `postgres:`), with a host. */
export const IsServiceUrl = (protocols: string[], options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isServiceUrl',
      constraints: [protocols],
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string') return false;
          try {
            const url = new URL(value);
            return protocols.includes(url.protocol) && url.hostname.length > 0;
          } catch {
            return false;
          }
        },
        defaultMessage: (args) =>
          `${args?.property} must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
      },
    },
    options,
  );

/** A TCP port number, 1-65535 (after conversion from the environment's string). */
export const IsPort = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isPort',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535,
        defaultMessage: (args) => `${args?.property} must be an integer between 1 and 65535`,
      },
    },
    options,
  );

/** Whole days from 1 to 365. */
export const IsGraceDays = (options?: ValidationOptions) =>
  fromParser('isGraceDays', parseGraceDays, options);
