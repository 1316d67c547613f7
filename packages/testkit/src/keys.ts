import { randomBytes } from 'node:crypto';

/** Fresh key material in the formats the config expects, for tests and the demo. */
export function testSecrets(): { ENCRYPTION_KEY: string; HMAC_KEY: string } {
  return {
    ENCRYPTION_KEY: `test:${randomBytes(32).toString('base64')}`,
    HMAC_KEY: randomBytes(32).toString('base64'),
  };
}
