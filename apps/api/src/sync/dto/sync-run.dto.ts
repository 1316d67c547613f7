import { ApiProperty } from '@nestjs/swagger';
import {
  SKIP_REASONS,
  SkipReason,
  SYNC_MODES,
  SYNC_RUN_STATUSES,
  SYNC_TRIGGERS,
  SyncMode,
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

  @ApiProperty({
    enum: SYNC_MODES,
    nullable: true,
    description:
      '`full`: every subscriber fetched, and those gone from the ESP removed; `incremental`: ' +
      'only those changed since the last complete sync (Mailchimp, Kit; nothing removed). ' +
      'The first sync and one every SYNC_FULL_PASS_EVERY_DAYS are full; beehiiv syncs always ' +
      'are. Null until the run starts',
  })
  mode: SyncMode | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  startedAt: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  completedAt: string | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Subscribers at the ESP at the end' })
  subscriberCount: number | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'Why the run failed, in words an owner can act on; an internal error gives a reference ' +
      'for the operators instead of its text',
  })
  errorMessage: string | null;

  @ApiProperty({
    description:
      'Subscribers the ESP sent that the run did not store: an address that is not one, an id ' +
      'it could not be found by again, or a vendor status we do not keep',
  })
  skippedRows: number;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    description: '`skippedRows` by reason: ' + SKIP_REASONS.map((r) => `\`${r}\``).join(', '),
    example: { 'malformed-email': 1 },
  })
  skipReasons: Partial<Record<SkipReason, number>>;

  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'What caused the run: the request id (X-Request-Id) of a manual sync, the cron_runs id of ' +
      "a scheduled one. Every log line of the run's jobs carries it",
  })
  correlationId: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt: string;

  static from(run: SyncRun): SyncRunDto {
    return {
      id: run.id,
      espConnectionId: run.espConnectionId,
      status: run.status,
      trigger: run.trigger,
      mode: run.mode,
      startedAt: run.startedAt?.toISOString() ?? null,
      completedAt: run.completedAt?.toISOString() ?? null,
      subscriberCount: run.subscriberCount,
      errorMessage: run.errorMessage,
      skippedRows: run.skippedCount,
      skipReasons: run.skipReasons,
      correlationId: run.correlationId,
      createdAt: run.createdAt.toISOString(),
    };
  }
}
