import { ApiProperty } from '@nestjs/swagger';

/** A connection's stored subscribers by status. */
export class SubscriberStatsDto {
  @ApiProperty({ example: 1200 })
  active: number;

  @ApiProperty({ example: 30 })
  unsubscribed: number;

  @ApiProperty({ example: 4 })
  bounced: number;

  @ApiProperty({ example: 1234 })
  total: number;
}
