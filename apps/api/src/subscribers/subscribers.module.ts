import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Subscriber } from '@subscribernest/shared';
import { EspConnectionsModule } from '../esp-connections/esp-connections.module';
import { SubscriberExportController } from './subscriber-export.controller';
import { SubscriberExportService } from './subscriber-export.service';
import { SubscriberController } from './subscriber.controller';
import { SubscriberRepository } from './subscriber.repository';
import { SubscribersService } from './subscribers.service';

/**
 * The stored subscribers: paged lists (masked), counts, an audited unmask, and streamed exports
 * (CSV, JSON, XLSX), all scoped to the caller's connections.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Subscriber]), EspConnectionsModule],
  controllers: [SubscriberController, SubscriberExportController],
  providers: [SubscribersService, SubscriberExportService, SubscriberRepository],
  exports: [SubscriberRepository],
})
export class SubscribersModule {}
