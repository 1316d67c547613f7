import { ApiProperty } from '@nestjs/swagger';
import { JobRunDto } from '../../jobs/dto/job-run.dto';

/** A dead job, with whose it is. */
export class DeadJobDto extends JobRunDto {
  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  userId: string | null;
}

/** One page of the dead-letter list, newest first. */
export class DeadLetterPageDto {
  @ApiProperty({ type: [DeadJobDto] })
  data: DeadJobDto[];

  @ApiProperty({ description: 'Dead jobs in all' })
  total: number;

  @ApiProperty()
  page: number;

  @ApiProperty()
  limit: number;

  @ApiProperty()
  totalPages: number;
}
