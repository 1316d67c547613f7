import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

/** An ESP API key in a request body: trimmed, non-empty, at most 512 characters. Write-only. */
export const ApiKeyField = () =>
  applyDecorators(
    ApiProperty({
      description: 'The ESP API key; stored encrypted, never returned',
      writeOnly: true,
      maxLength: 512,
    }),
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'string' ? value.trim() : value,
    ),
    IsString(),
    IsNotEmpty(),
    MaxLength(512),
  );
