import { Module } from '@nestjs/common';
import { PlatformHealthModule } from '@subscribernest/shared';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { OpsServer } from './ops-server';

@Module({
  imports: [PlatformHealthModule, PrometheusModule.register({ defaultMetrics: { enabled: true } })],
  providers: [OpsServer],
  exports: [OpsServer],
})
export class OpsModule {}
