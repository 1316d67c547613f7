import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { PlatformHealthService } from './platform-health.service';
import { RedisHealthIndicator } from './redis.health';

@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  providers: [RedisHealthIndicator, PlatformHealthService],
  exports: [PlatformHealthService, TerminusModule],
})
export class PlatformHealthModule {}
