import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/**
 * Highest `page` of every offset-paged list. With a limit of at most 100 the deepest offset is
 * 10^8 rows, far inside what Postgres takes; a page beyond the last one is simply empty.
 */
export const MAX_PAGE = 1_000_000;

export interface IntQueryParamOptions {
  minimum: number;
  maximum: number;
  default?: number;
  description?: string;
}

/**
 * An optional whole-number query parameter (`?page=`, `?limit=`) between `minimum` and
 * `maximum`, both documented. Anything else (`-1`, `1.5`, `1e308`, `NaN`, `abc`, empty,
 * repeated) is a 400 naming the parameter and the bound it broke, before it can reach a query.
 */
export const IntQueryParam = (options: IntQueryParamOptions): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({
      type: 'integer',
      minimum: options.minimum,
      maximum: options.maximum,
      default: options.default,
      description: options.description,
    }),
    IsOptional(),
    Type(() => Number),
    IsInt(),
    Min(options.minimum),
    Max(options.maximum),
  );
