import { ApiProperty } from '@nestjs/swagger';
import { JobRunDto } from '../../jobs/dto/job-run.dto';

export class DeadJobRetriedDto {
  @ApiProperty({ example: true })
  success: true;

  @ApiProperty({ type: JobRunDto, description: 'The job, `queued` again' })
  job: JobRunDto;
}
