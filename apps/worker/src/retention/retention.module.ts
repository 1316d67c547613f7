import { Module } from '@nestjs/common';
import { CronTicksModule } from '../schedulers/cron-ticks.module';
import { DataRetentionScheduler } from './data-retention.scheduler';
import { RetentionRepository } from './retention.repository';

/** The daily data-retention cron and its batched prunes. */
@Module({
  imports: [CronTicksModule],
  providers: [RetentionRepository, DataRetentionScheduler],
})
export class RetentionModule {}
