import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EspConnection, EspModule, SyncLifecycleModule } from '@subscribernest/shared';
import { BillingEntitlementModule } from '../billing/billing-entitlement.module';
import { EspConnectionController } from './esp-connection.controller';
import { EspConnectionRepository } from './esp-connection.repository';
import { EspConnectionsService } from './esp-connections.service';

/**
 * ESP connections: validated with the ESP (shared EspClientRegistry), keys stored encrypted.
 * Connecting one needs a subscription when Stripe billing is enabled.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([EspConnection]),
    EspModule,
    SyncLifecycleModule,
    // The subscription gate of POST /esp-connections.
    BillingEntitlementModule,
  ],
  controllers: [EspConnectionController],
  providers: [EspConnectionsService, EspConnectionRepository],
  exports: [EspConnectionsService, EspConnectionRepository],
})
export class EspConnectionsModule {}
