import { ApiProperty } from '@nestjs/swagger';

/** The caller's totals. */
export class DashboardStatsDto {
  @ApiProperty({ example: 2 })
  totalEspConnections: number;

  @ApiProperty({ description: 'Stored subscribers across all connections', example: 1234 })
  totalSubscribers: number;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'The most recent successful sync of any connection',
  })
  lastSyncTime: string | null;
}
