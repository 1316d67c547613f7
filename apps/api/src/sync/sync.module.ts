import { Module } from '@nestjs/common';
import { OutboxRelayService, SyncLifecycleModule } from '@subscribernest/shared';
import { BillingEntitlementModule } from '../billing/billing-entitlement.module';
import { EspConnectionsModule } from '../esp-connections/esp-connections.module';
import { OutboxRelayListener } from './outbox-relay.listener';
import { SyncRunRepository } from './sync-run.repository';
import { SyncController } from './sync.controller';
import { SyncService } from './sync.service';

/**
 * Manual sync through events and sync history. Produces no sync job and has no processor: the
 * outbox relay publishes `sync-requested` to `domain-events` for the worker.
 */
@Module({
  imports: [EspConnectionsModule, SyncLifecycleModule, BillingEntitlementModule],
  controllers: [SyncController],
  providers: [SyncService, SyncRunRepository, OutboxRelayService, OutboxRelayListener],
})
export class SyncModule {}
