import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, MaxLength } from 'class-validator';

/** An email address in a request body: trimmed, at most 320 characters, well-formed. */
export const EmailField = () =>
  applyDecorators(
    ApiProperty({ format: 'email', maxLength: 320, example: 'jane@example.com' }),
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'string' ? value.trim() : value,
    ),
    IsString(),
    MaxLength(320),
    IsEmail(),
  );
