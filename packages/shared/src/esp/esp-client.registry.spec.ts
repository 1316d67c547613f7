import { randomBytes } from 'node:crypto';
import { SharedEnv } from '../config/env.schema';
import { validateEnv } from '../config/validate-env';
import { ESP_TYPES } from '../entities/esp-connection.entity';
import { BeehiivClient } from './beehiiv.client';
import { EspClientRegistry, createEspClientRegistry } from './esp-client.registry';
import { KitClient } from './kit.client';
import { MailchimpClient } from './mailchimp.client';

const env = validateEnv(SharedEnv, {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/subscribernest',
  REDIS_URL: 'redis://127.0.0.1:6379',
  ENCRYPTION_KEY: `k1:${randomBytes(32).toString('base64')}`,
  HMAC_KEY: randomBytes(32).toString('base64'),
});

describe('createEspClientRegistry', () => {
  it('builds one client for every ESP type from the shared settings', () => {
    const registry = createEspClientRegistry(env);
    expect(registry.espTypes.sort()).toEqual([...ESP_TYPES].sort());
    expect(registry.get('beehiiv')).toBeInstanceOf(BeehiivClient);
    expect(registry.get('kit')).toBeInstanceOf(KitClient);
    expect(registry.get('mailchimp')).toBeInstanceOf(MailchimpClient);
    for (const espType of ESP_TYPES) expect(registry.get(espType).espType).toBe(espType);
  });

  it('refuses an ESP type it has no client for', () => {
    const registry = new EspClientRegistry([]);
    expect(() => registry.get('kit')).toThrow('No ESP client is registered for "kit"');
  });
});
