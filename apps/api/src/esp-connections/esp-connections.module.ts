import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EspConnection, EspModule, SyncLifecycleModule } from '@subscribernest/shared';
import { EspConnectionController } from './esp-connection.controller';
import { EspConnectionRepository } from './esp-connection.repository';
import { EspConnectionsService } from './esp-connections.service';

/** ESP connections: validated with the ESP (shared EspClientRegistry), keys stored encrypted. */
@Module({
  imports: [TypeOrmModule.forFeature([EspConnection]), EspModule, SyncLifecycleModule],
  controllers: [EspConnectionController],
  providers: [EspConnectionsService, EspConnectionRepository],
  exports: [EspConnectionsService, EspConnectionRepository],
})
export class EspConnectionsModule {}
