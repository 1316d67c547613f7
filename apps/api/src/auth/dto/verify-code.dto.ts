import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, Matches } from 'class-validator';
import { EmailField } from './email-field.decorator';

export class VerifyCodeDto {
  @EmailField()
  email: string;

  @ApiProperty({ description: 'The 6-digit code from the email', pattern: '^\\d{6}$' })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @Matches(/^\d{6}$/, { message: 'code must be 6 digits' })
  code: string;
}
