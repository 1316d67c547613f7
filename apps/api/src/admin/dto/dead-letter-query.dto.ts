import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export const DEAD_LETTER_DEFAULT_LIMIT = 20;
export const DEAD_LETTER_MAX_LIMIT = 100;

export class DeadLetterQueryDto {
  @ApiPropertyOptional({ minimum: 1, default: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  page: number = 1;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: DEAD_LETTER_MAX_LIMIT,
    default: DEAD_LETTER_DEFAULT_LIMIT,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(DEAD_LETTER_MAX_LIMIT)
  limit: number = DEAD_LETTER_DEFAULT_LIMIT;
}
