import { Controller, Get, HttpCode, HttpStatus, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { User } from '@subscribernest/shared';
import { CurrentUser } from '../auth/current-user.decorator';
import { AdminOnly } from '../auth/roles.decorator';
import { ErrorResponseDto } from '../http/error-response.dto';
import { UuidParam } from '../http/uuid-param.decorator';
import { JobRunDto } from '../jobs/dto/job-run.dto';
import { adminPage } from './dto/admin-page.dto';
import { DeadJobRetriedDto } from './dto/dead-job-retried.dto';
import { DeadLetterPageDto } from './dto/dead-letter-page.dto';
import { DeadLetterQueryDto } from './dto/dead-letter-query.dto';
import { DeadLetterService } from './dead-letter.service';
import { AdminActionRoute } from './audit/admin-action-route.decorator';

@ApiTags('admin')
@AdminOnly()
@Controller('admin/dead-letter')
export class DeadLetterController {
  constructor(private readonly deadLetter: DeadLetterService) {}

  @Get()
  @ApiOperation({ summary: 'Jobs that failed their last attempt, newest first (paged)' })
  @ApiOkResponse({ type: DeadLetterPageDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Bad page or limit' })
  async list(@Query() query: DeadLetterQueryDto): Promise<DeadLetterPageDto> {
    const { rows, total } = await this.deadLetter.list(query.page, query.limit);
    return adminPage(
      rows.map((run) => ({ ...JobRunDto.from(run), userId: run.userId })),
      total,
      query,
    );
  }

  @Post(':id/retry')
  @AdminActionRoute('dead-letter.retry', 'id')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Retry a dead job',
    description:
      'Re-enqueues the failed job BullMQ still keeps, with a fresh set of attempts; its row ' +
      'becomes `queued`. Payloads are not kept in Postgres: once Redis has dropped the job ' +
      '(failed-job retention), the answer is 409.',
  })
  @ApiAcceptedResponse({ type: DeadJobRetriedDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'The id is not a UUID' })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'No such job_runs row' })
  @ApiConflictResponse({
    type: ErrorResponseDto,
    description: 'Not dead, or no longer in Redis',
  })
  @ApiServiceUnavailableResponse({ type: ErrorResponseDto, description: 'Redis is unavailable' })
  async retry(@CurrentUser() admin: User, @UuidParam('id') id: string): Promise<DeadJobRetriedDto> {
    return { success: true, job: JobRunDto.from(await this.deadLetter.retry(id, admin.id)) };
  }
}
