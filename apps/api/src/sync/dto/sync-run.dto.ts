import { ApiProperty } from '@nestjs/swagger';
import {
  SYNC_RUN_STATUSES,
  SYNC_TRIGGERS,
  SyncRun,
  SyncRunStatus,
  SyncTrigger,
} from '@subscribernest/shared';

/** One sync attempt as the frontend reads it. */
export class SyncRunDto {
  @ApiProperty({ format: 'uuid', description: 'Also the id of the job that runs it' })
  id: string;

  @ApiProperty({ format: 'uuid' })
  espConnectionId: string;

  @ApiProperty({
    enum: SYNC_RUN_STATUSES,
    description: '`queued`/`running` while unfinished, then exactly `success` or `failed`',
  })
  status: SyncRunStatus;

  @ApiProperty({ enum: SYNC_TRIGGERS })
  trigger: SyncTrigger;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  startedAt: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  completedAt: string | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Subscribers at the ESP at the end' })
  subscriberCount: number | null;

  @ApiProperty({ type: String, nullable: true })
  errorMessage: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt: string;

  static from(run: SyncRun): SyncRunDto {
    return {
      id: run.id,
      espConnectionId: run.espConnectionId,
      status: run.status,
      trigger: run.trigger,
      startedAt: run.startedAt?.toISOString() ?? null,
      completedAt: run.completedAt?.toISOString() ?? null,
      subscriberCount: run.subscriberCount,
      errorMessage: run.errorMessage,
      createdAt: run.createdAt.toISOString(),
    };
  }
}
