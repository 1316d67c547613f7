import { ApiProperty } from '@nestjs/swagger';

/** A subscriber's address in clear, for its owner only. */
export class UnmaskedEmailDto {
  @ApiProperty({ format: 'email', example: 'jane.doe@example.com' })
  email: string;
}
