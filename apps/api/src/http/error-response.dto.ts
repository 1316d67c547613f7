import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The body of every error answer: Nest's usual shape, plus field messages on a 400. */
export class ErrorResponseDto {
  @ApiProperty({ example: 400 })
  statusCode: number;

  @ApiProperty({
    description: 'What went wrong: one sentence, or one sentence per invalid field.',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: ['email must be an email'],
  })
  message: string | string[];

  @ApiProperty({ example: 'Bad Request' })
  error: string;

  @ApiPropertyOptional({
    description: 'On a validation failure: the messages for each invalid field, by field path.',
    type: 'object',
    additionalProperties: { type: 'array', items: { type: 'string' } },
    example: { email: ['email must be an email'] },
  })
  fields?: Record<string, string[]>;
}
