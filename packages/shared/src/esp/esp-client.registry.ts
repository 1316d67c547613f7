import type { EspType } from '../entities/esp-connection.entity';
import { BeehiivClient } from './beehiiv.client';
import type { EspClient } from './esp-client';
import type { EspHttpOptions } from './esp-http.client';
import { KitClient } from './kit.client';
import { MailchimpClient } from './mailchimp.client';

/** What the HTTP layer does when the settings leave it open (also the environment's defaults). */
export const ESP_HTTP_DEFAULTS = {
  ESP_REQUEST_TIMEOUT_MS: 30_000,
  ESP_MAX_RETRIES: 4,
  ESP_MAX_INLINE_WAIT_MS: 10_000,
} as const;

/** The configuration the ESP clients read (part of `SharedEnv`). */
export interface EspSettings {
  BEEHIIV_API_URL: string;
  KIT_API_URL: string;
  /** May contain `{dc}`, replaced by the data centre of each key. */
  MAILCHIMP_API_URL: string;
  ESP_REQUEST_TIMEOUT_MS?: number;
  ESP_MAX_RETRIES?: number;
  ESP_MAX_INLINE_WAIT_MS?: number;
}

/**
 * How each ESP's client is built. The mapped type makes a missing ESP a compile error: adding
 * one to `ESP_TYPES` means adding its client file and its line here.
 */
const CLIENT_FACTORIES: {
  [K in EspType]: (settings: EspSettings, http: EspHttpOptions) => EspClient & { espType: K };
} = {
  beehiiv: (settings, http) => new BeehiivClient(settings.BEEHIIV_API_URL, http),
  kit: (settings, http) => new KitClient(settings.KIT_API_URL, http),
  mailchimp: (settings, http) => new MailchimpClient(settings.MAILCHIMP_API_URL, http),
};

/** One stateless client per ESP, looked up by a connection's `espType`. */
export class EspClientRegistry {
  private readonly clients: ReadonlyMap<EspType, EspClient>;

  constructor(clients: Iterable<EspClient>) {
    this.clients = new Map([...clients].map((client) => [client.espType, client]));
  }

  get(espType: EspType): EspClient {
    const client = this.clients.get(espType);
    if (!client) throw new Error(`No ESP client is registered for "${String(espType)}"`);
    return client;
  }

  get espTypes(): EspType[] {
    return [...this.clients.keys()];
  }
}

/**
 * Builds every ESP client from the settings. `overrides` tune the HTTP layer beyond what the
 * environment sets (tests: tiny backoff, a recording `sleep`; the app: a logger).
 */
export function createEspClientRegistry(
  settings: EspSettings,
  overrides: Partial<EspHttpOptions> = {},
): EspClientRegistry {
  const http: EspHttpOptions = {
    timeoutMs: settings.ESP_REQUEST_TIMEOUT_MS ?? ESP_HTTP_DEFAULTS.ESP_REQUEST_TIMEOUT_MS,
    maxRetries: settings.ESP_MAX_RETRIES ?? ESP_HTTP_DEFAULTS.ESP_MAX_RETRIES,
    maxInlineWaitMs: settings.ESP_MAX_INLINE_WAIT_MS ?? ESP_HTTP_DEFAULTS.ESP_MAX_INLINE_WAIT_MS,
    ...overrides,
  };
  return new EspClientRegistry(
    (Object.keys(CLIENT_FACTORIES) as EspType[]).map((espType) =>
      CLIENT_FACTORIES[espType](settings, http),
    ),
  );
}
