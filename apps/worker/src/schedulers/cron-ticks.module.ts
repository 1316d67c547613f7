import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CronRun } from '@subscribernest/shared';
import { CronRunRepository } from './cron-run.repository';
import { CronTicksService } from './cron-ticks.service';

/** The `cron_runs` claim / catch-up / outcome piece every scheduler builds on. */
@Module({
  imports: [TypeOrmModule.forFeature([CronRun])],
  providers: [CronRunRepository, CronTicksService],
  exports: [CronRunRepository, CronTicksService],
})
export class CronTicksModule {}
