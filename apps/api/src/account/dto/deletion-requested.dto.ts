import { ApiProperty } from '@nestjs/swagger';

/** The answer to a deletion request: when the account will be deleted. */
export class DeletionRequestedDto {
  @ApiProperty({
    example:
      'Your account will be deleted on 2025-07-01T10:00:00.000Z. Until then you can read and ' +
      'export your data; POST /account/delete/cancel keeps it.',
  })
  message: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    description: 'When the account and its data will be deleted (request date + grace period)',
  })
  deletionScheduledFor: string;
}
