import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export const SYNC_HISTORY_DEFAULT_LIMIT = 20;
export const SYNC_HISTORY_MAX_LIMIT = 100;

export class SyncHistoryQueryDto {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: SYNC_HISTORY_MAX_LIMIT,
    default: SYNC_HISTORY_DEFAULT_LIMIT,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(SYNC_HISTORY_MAX_LIMIT)
  limit: number = SYNC_HISTORY_DEFAULT_LIMIT;
}
