import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiEnv, Subscriber } from '@subscribernest/shared';
import { EspConnectionsModule } from '../esp-connections/esp-connections.module';
import { ExportDatabase } from './export-database';
import { ExportSlots } from './export-slots';
import { SubscriberExportController } from './subscriber-export.controller';
import { SubscriberExportService } from './subscriber-export.service';
import { SubscriberController } from './subscriber.controller';
import { SubscriberRepository } from './subscriber.repository';
import { SubscribersService } from './subscribers.service';

/**
 * The stored subscribers: paged lists (masked), counts, an audited unmask, and streamed exports
 * (CSV, JSON, XLSX), all scoped to the caller's connections. Exports run on a Postgres pool of
 * their own (ExportDatabase), a few at a time per user and per process (ExportSlots).
 */
@Module({
  imports: [TypeOrmModule.forFeature([Subscriber]), EspConnectionsModule],
  controllers: [SubscriberController, SubscriberExportController],
  providers: [
    SubscribersService,
    SubscriberExportService,
    SubscriberRepository,
    ExportDatabase,
    {
      provide: ExportSlots,
      inject: [ConfigService],
      useFactory: (config: ConfigService<ApiEnv, true>) =>
        new ExportSlots({
          maxConcurrent: config.get('EXPORT_MAX_CONCURRENT', { infer: true }),
          maxPerUser: config.get('EXPORT_MAX_PER_USER', { infer: true }),
        }),
    },
  ],
  exports: [SubscriberRepository],
})
export class SubscribersModule {}
