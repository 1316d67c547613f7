import { ApiProperty } from '@nestjs/swagger';

export class SchedulerRunAcceptedDto {
  @ApiProperty({
    example: 'run-cron:midnight-sync:202501010000',
    description: 'One per cron per minute: asking again within the minute answers the same job',
  })
  jobId: string;
}
