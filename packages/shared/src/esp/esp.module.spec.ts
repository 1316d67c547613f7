import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { EspClientRegistry } from './esp-client.registry';
import { EspModule } from './esp.module';

@Module({
  imports: [
    ConfigModule.forRoot({
      isGlobal: true,
      ignoreEnvFile: true,
      load: [
        () => ({
          BEEHIIV_API_URL: 'http://127.0.0.1:1/beehiiv/v2',
          KIT_API_URL: 'http://127.0.0.1:1/kit/v4',
          MAILCHIMP_API_URL: 'http://127.0.0.1:1/mailchimp/{dc}/3.0',
          ESP_REQUEST_TIMEOUT_MS: 1_000,
          ESP_MAX_RETRIES: 0,
          ESP_MAX_INLINE_WAIT_MS: 0,
        }),
      ],
    }),
    EspModule,
  ],
})
class AppModule {}

describe('EspModule', () => {
  it('provides the client registry built from the configuration', async () => {
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    try {
      const registry = app.get(EspClientRegistry);
      expect(registry.espTypes.sort()).toEqual(['beehiiv', 'kit', 'mailchimp']);
      // Nothing can be reached on port 1: proof the configured URL and retry count are used.
      await expect(registry.get('kit').countSubscribers({ apiKey: 'kit-key-123' })).rejects.toThrow(
        'kit: GET /subscribers: network error',
      );
    } finally {
      await app.close();
    }
  });
});
