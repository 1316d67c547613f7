import { Controller, Get } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { User } from '@subscribernest/shared';
import { CurrentUser } from '../auth/current-user.decorator';
import { ErrorResponseDto } from '../http/error-response.dto';
import { JobRunDto } from './dto/job-run.dto';
import { JobIdParam } from './job-id-param.decorator';
import { JobsService } from './jobs.service';

@ApiTags('jobs')
@Controller('jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Get(':id')
  @ApiOperation({
    summary: "A background job's status",
    description:
      'By `job_runs` id or BullMQ job id — e.g. the `jobId` a sync request answered. Status, ' +
      'attempts and last error come from Postgres. Its owner or an admin only.',
  })
  @ApiOkResponse({ type: JobRunDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Malformed id' })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'No such job of the caller' })
  findOne(@CurrentUser() user: User, @JobIdParam('id') id: string): Promise<JobRunDto> {
    return this.jobs.findForViewer(id, user);
  }
}
