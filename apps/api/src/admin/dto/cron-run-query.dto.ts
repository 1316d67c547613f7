import { ApiPropertyOptional } from '@nestjs/swagger';
import { CRON, CRON_RUN_STATUSES, CronName, CronRunStatus } from '@subscribernest/shared';
import { IsIn, IsOptional } from 'class-validator';
import { AdminPageQueryDto } from './admin-page.dto';

const CRON_NAMES = Object.values(CRON);

/** `GET /admin/cron-runs`: offset pages, filtered by cron and state. */
export class CronRunQueryDto extends AdminPageQueryDto {
  @ApiPropertyOptional({ enum: CRON_NAMES, description: 'Only this cron' })
  @IsOptional()
  @IsIn(CRON_NAMES, { message: `name must be one of: ${CRON_NAMES.join(', ')}` })
  name?: CronName;

  @ApiPropertyOptional({ enum: CRON_RUN_STATUSES, description: 'Only ticks in this state' })
  @IsOptional()
  @IsIn(CRON_RUN_STATUSES, { message: `status must be one of: ${CRON_RUN_STATUSES.join(', ')}` })
  status?: CronRunStatus;
}
