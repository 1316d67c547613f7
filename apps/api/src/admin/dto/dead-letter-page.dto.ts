import { ApiProperty } from '@nestjs/swagger';
import { JobRunDto } from '../../jobs/dto/job-run.dto';
import { AdminPageFieldsDto } from './admin-page.dto';

/** A dead job, with whose it is. */
export class DeadJobDto extends JobRunDto {
  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  userId: string | null;
}

/** One page of the dead-letter list, newest first. */
export class DeadLetterPageDto extends AdminPageFieldsDto {
  @ApiProperty({ type: [DeadJobDto] })
  data: DeadJobDto[];
}
