import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ADMIN_ACTION_OUTCOMES, AdminAction, AdminActionOutcome } from '@subscribernest/shared';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { AdminPageFieldsDto, AdminPageQueryDto } from '../dto/admin-page.dto';
import { ADMIN_ACTIONS, AdminActionName } from './admin-action';

/** One recorded admin action: who, what, on what, when, and how it ended. */
export class AdminActionDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ format: 'uuid', description: 'The admin who acted' })
  adminId: string;

  @ApiProperty({ enum: ADMIN_ACTIONS })
  action: string;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'What was acted on: a job_runs or cron_runs id, a cron name',
  })
  target: string | null;

  @ApiProperty({
    enum: ADMIN_ACTION_OUTCOMES,
    description: '`pending` past a few seconds means the api stopped mid-action',
  })
  outcome: AdminActionOutcome;

  @ApiProperty({ type: Number, nullable: true, description: 'The HTTP status answered' })
  statusCode: number | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Why it failed, as the admin was told',
  })
  detail: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The request id in the api log' })
  requestId: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  finishedAt: string | null;

  static from(row: AdminAction): AdminActionDto {
    return {
      id: row.id,
      adminId: row.adminId,
      action: row.action,
      target: row.target,
      outcome: row.outcome,
      statusCode: row.statusCode,
      detail: row.detail,
      requestId: row.requestId,
      createdAt: row.createdAt.toISOString(),
      finishedAt: row.finishedAt?.toISOString() ?? null,
    };
  }
}

export class AdminActionPageDto extends AdminPageFieldsDto {
  @ApiProperty({ type: [AdminActionDto] })
  data: AdminActionDto[];
}

/** `GET /admin/actions`: offset pages, newest first, by admin and by action. */
export class AdminActionQueryDto extends AdminPageQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Only this admin' })
  @IsOptional()
  @IsUUID('all', { message: 'adminId must be a UUID' })
  adminId?: string;

  @ApiPropertyOptional({ enum: ADMIN_ACTIONS, description: 'Only this action' })
  @IsOptional()
  @IsIn(ADMIN_ACTIONS, { message: `action must be one of: ${ADMIN_ACTIONS.join(', ')}` })
  action?: AdminActionName;
}
