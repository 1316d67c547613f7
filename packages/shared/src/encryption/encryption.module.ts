import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { EncryptionService, EncryptionSettings } from './encryption.service';

/** Provides one EncryptionService built from the validated configuration. */
@Global()
@Module({
  providers: [
    {
      provide: EncryptionService,
      inject: [ConfigService],
      useFactory: (config: ConfigService<EncryptionSettings, true>) =>
        EncryptionService.fromSettings({
          ENCRYPTION_KEY: config.get('ENCRYPTION_KEY', { infer: true }),
          ENCRYPTION_PREVIOUS_KEYS: config.get('ENCRYPTION_PREVIOUS_KEYS', { infer: true }),
          HMAC_KEY: config.get('HMAC_KEY', { infer: true }),
        }),
    },
  ],
  exports: [EncryptionService],
})
export class EncryptionModule {}
