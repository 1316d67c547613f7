import { Global, Logger, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { EspRequestBudgets } from './budget/esp-request-budgets';
import { EspClientRegistry, EspSettings, createEspClientRegistry } from './esp-client.registry';

/**
 * Provides the `EspClientRegistry`, built from the validated configuration, whose every call
 * takes from the fleet-wide request budgets (`EspRequestBudgets`).
 */
@Global()
@Module({
  providers: [
    EspRequestBudgets,
    {
      provide: EspClientRegistry,
      inject: [ConfigService, EspRequestBudgets],
      useFactory: (
        config: ConfigService<Required<EspSettings>, true>,
        budgets: EspRequestBudgets,
      ) =>
        createEspClientRegistry(
          {
            BEEHIIV_API_URL: config.get('BEEHIIV_API_URL', { infer: true }),
            KIT_API_URL: config.get('KIT_API_URL', { infer: true }),
            MAILCHIMP_API_URL: config.get('MAILCHIMP_API_URL', { infer: true }),
            ESP_REQUEST_TIMEOUT_MS: config.get('ESP_REQUEST_TIMEOUT_MS', { infer: true }),
            ESP_MAX_RETRIES: config.get('ESP_MAX_RETRIES', { infer: true }),
            ESP_MAX_INLINE_WAIT_MS: config.get('ESP_MAX_INLINE_WAIT_MS', { infer: true }),
          },
          { logger: new Logger('EspHttpClient'), budget: budgets.budget },
        ),
    },
  ],
  exports: [EspClientRegistry, EspRequestBudgets],
})
export class EspModule {}
