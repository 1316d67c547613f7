import { Module } from '@nestjs/common';
import { PlatformHealthModule } from '@subscribernest/shared';
import { HealthController } from './health.controller';

@Module({
  imports: [PlatformHealthModule],
  controllers: [HealthController],
})
export class HealthModule {}
