import { isIP } from 'node:net';
import { ValidateBy, ValidationOptions } from 'class-validator';
import { parseKeyList, parseNamedKey, parseSecretKey } from '../encryption/encryption-keys';
import { isHashTaggedPrefix, isRedisClusterUrl, parseRedisTarget } from '../redis/redis-target';
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

/**
 * In production (NODE_ENV=production), a URL that `secure` accepts: a service reached over TLS.
 * Elsewhere anything (local fakes and test servers speak plain HTTP). A value that is not a URL at
 * all passes here, so IsServiceUrl alone names it (one line per variable).
 */
export const IsTlsInProduction = (
  secure: (url: URL) => boolean,
  requirement: string,
  options?: ValidationOptions,
) =>
  ValidateBy(
    {
      name: 'isTlsInProduction',
      validator: {
        validate: (value: unknown, args) => {
          if ((args?.object as { NODE_ENV?: unknown }).NODE_ENV !== 'production') return true;
          if (typeof value !== 'string') return true;
          let url: URL;
          try {
            url = new URL(value);
          } catch {
            return true;
          }
          return secure(url);
        },
        defaultMessage: (args) => `${args?.property} ${requirement}`,
      },
    },
    options,
  );

/** `https:`: what an HTTP API outside our network is reached over in production. */
export const isHttpsUrl = (url: URL): boolean => url.protocol === 'https:';

/**
 * An SMTP URL whose connection is encrypted before any credential or message is sent: `smtps:`
 * (implicit TLS, usually port 465), or `smtp:` with `requireTLS=true` (nodemailer then insists on
 * STARTTLS and fails rather than fall back to plain text, usually port 587). Certificate checks
 * may not be turned off (`tls.rejectUnauthorized=false`).
 */
export const isTlsSmtpUrl = (url: URL): boolean => {
  if (url.searchParams.get('tls.rejectUnauthorized') === 'false') return false;
  if (url.protocol === 'smtps:') return true;
  return url.protocol === 'smtp:' && url.searchParams.get('requireTLS') === 'true';
};

const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** An address to listen on: an IPv4 or IPv6 address, or a host name (`localhost`). */
export const IsListenHost = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isListenHost',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' && (isIP(value) !== 0 || HOST_NAME.test(value)),
        defaultMessage: (args) =>
          `${args?.property} must be an IP address or host name to listen on ` +
          '(0.0.0.0: every interface; 127.0.0.1: this machine only)',
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

/** Why a `redis+cluster://` REDIS_URL is malformed, or null when it is not one or is sound. */
function clusterUrlProblem(value: string): string | null {
  if (!isRedisClusterUrl(value)) return null;
  try {
    parseRedisTarget(value);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

const isSingleRedisUrl = (value: string): boolean => {
  try {
    const url = new URL(value);
    return ['redis:', 'rediss:'].includes(url.protocol) && url.hostname.length > 0;
  } catch {
    return false;
  }
};

/**
 * REDIS_URL: one server (`redis://`, `rediss://`), or a cluster named by seed nodes
 * (`redis+cluster://host:port,host:port`, `rediss+cluster://` for TLS; parseRedisTarget).
 */
export const IsRedisUrl = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isRedisUrl',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' &&
          (isRedisClusterUrl(value) ? clusterUrlProblem(value) === null : isSingleRedisUrl(value)),
        // The reason names a host:port at most, never the credentials.
        defaultMessage: (args) => {
          const value = String(args?.value ?? '');
          return isRedisClusterUrl(value)
            ? `${args?.property} must be redis+cluster://host:port,host:port[,…] ` +
                `(${clusterUrlProblem(value)})`
            : `${args?.property} must be a URL starting with redis:// or rediss://`;
        },
      },
    },
    options,
  );

/**
 * QUEUE_PREFIX on a cluster (REDIS_URL `redis+cluster://…`): a hash tag, so every key of a queue
 * hashes to one slot. Any prefix passes with one server.
 */
export const IsHashTaggedOnCluster = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isHashTaggedOnCluster',
      validator: {
        validate: (value: unknown, args) => {
          const url = (args?.object as { REDIS_URL?: unknown }).REDIS_URL;
          if (typeof url !== 'string' || !isRedisClusterUrl(url)) return true;
          return typeof value === 'string' && isHashTaggedPrefix(value);
        },
        defaultMessage: (args) =>
          `${args?.property} must be a Redis Cluster hash tag such as {sn} when REDIS_URL is a ` +
          'redis+cluster:// URL: every key of a BullMQ queue has to hash to one slot',
      },
    },
    options,
  );
