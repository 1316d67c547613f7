import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CronRun } from '@subscribernest/shared';
import { CronRunRepository } from './cron-run.repository';
import { CronTicksService } from './cron-ticks.service';

/**
 * Crons. Holds the tick claim/catch-up piece every scheduler uses (CronTicksService); the
 * schedulers themselves (midnight sync, monthly billing, account deletion) join this module.
 */
@Module({
  imports: [TypeOrmModule.forFeature([CronRun])],
  providers: [CronRunRepository, CronTicksService],
  exports: [CronTicksService],
})
export class SchedulersModule {}
