import { ApiPropertyOptional } from '@nestjs/swagger';
import { CRON, CRON_RUN_STATUSES, CronName, CronRunStatus } from '@subscribernest/shared';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';

export const CRON_RUNS_DEFAULT_LIMIT = 20;
export const CRON_RUNS_MAX_LIMIT = 100;
const CRON_NAMES = Object.values(CRON);

export class CronRunQueryDto {
  @ApiPropertyOptional({ enum: CRON_NAMES, description: 'Only this cron' })
  @IsOptional()
  @IsIn(CRON_NAMES, { message: `name must be one of: ${CRON_NAMES.join(', ')}` })
  name?: CronName;

  @ApiPropertyOptional({ enum: CRON_RUN_STATUSES, description: 'Only ticks in this state' })
  @IsOptional()
  @IsIn(CRON_RUN_STATUSES, { message: `status must be one of: ${CRON_RUN_STATUSES.join(', ')}` })
  status?: CronRunStatus;

  @ApiPropertyOptional({ minimum: 1, default: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  page: number = 1;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: CRON_RUNS_MAX_LIMIT,
    default: CRON_RUNS_DEFAULT_LIMIT,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(CRON_RUNS_MAX_LIMIT)
  limit: number = CRON_RUNS_DEFAULT_LIMIT;
}
