import { ApiProperty } from '@nestjs/swagger';
import {
  CRON_RUN_STATUSES,
  CRON_RUN_TRIGGERS,
  CronRun,
  CronRunStatus,
  CronRunTrigger,
} from '@subscribernest/shared';
import { AdminPageFieldsDto } from './admin-page.dto';

/** One cron tick as recorded in `cron_runs` (its lease token stays inside). */
export class CronRunDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'midnight-sync' })
  name: string;

  @ApiProperty({ type: String, format: 'date-time', description: 'The scheduled instant' })
  tick: string;

  @ApiProperty({ enum: CRON_RUN_TRIGGERS })
  trigger: CronRunTrigger;

  @ApiProperty({
    enum: CRON_RUN_STATUSES,
    description:
      '`running` with `leaseExpiresAt` in the past means its worker died: the next recovery ' +
      'check (or an admin re-run) runs it again',
  })
  status: CronRunStatus;

  @ApiProperty({ description: 'Attempts that claimed the tick' })
  attempts: number;

  @ApiProperty({ description: 'Which worker (host:pid) holds or held the latest attempt' })
  claimedBy: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  leaseExpiresAt: string | null;

  @ApiProperty({ description: 'Jobs the tick queued' })
  queuedCount: number;

  @ApiProperty({ description: 'Items the tick skipped (already queued or running)' })
  skippedCount: number;

  @ApiProperty({ type: String, nullable: true, description: 'Why the last attempt failed' })
  error: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  startedAt: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  finishedAt: string | null;

  static from(run: CronRun): CronRunDto {
    return {
      id: run.id,
      name: run.name,
      tick: run.tick.toISOString(),
      trigger: run.trigger,
      status: run.status,
      attempts: run.attempts,
      claimedBy: run.claimedBy,
      leaseExpiresAt: run.leaseExpiresAt?.toISOString() ?? null,
      queuedCount: run.queuedCount,
      skippedCount: run.skippedCount,
      error: run.error,
      startedAt: run.startedAt.toISOString(),
      finishedAt: run.finishedAt?.toISOString() ?? null,
    };
  }
}

/** One page of cron ticks, newest tick first. */
export class CronRunPageDto extends AdminPageFieldsDto {
  @ApiProperty({ type: [CronRunDto] })
  data: CronRunDto[];
}

export class CronRunRerunAcceptedDto {
  @ApiProperty({
    example: 'rerun-cron-tick:6f1c1f0e-4a43-4c1b-9d55-0c7c2b1f4b6a:3',
    description: 'One per tick and attempt count: asking again before it runs answers the same job',
  })
  jobId: string;

  @ApiProperty({ type: CronRunDto, description: 'The tick as it stood when the re-run was queued' })
  cronRun: CronRunDto;
}
