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
import { CronRunsService } from './cron-runs.service';
import { adminPage } from './dto/admin-page.dto';
import { CronRunDto, CronRunPageDto, CronRunRerunAcceptedDto } from './dto/cron-run.dto';
import { CronRunQueryDto } from './dto/cron-run-query.dto';
import { AdminActionRoute } from './audit/admin-action-route.decorator';

@ApiTags('admin')
@AdminOnly()
@Controller('admin/cron-runs')
export class CronRunsController {
  constructor(private readonly cronRuns: CronRunsService) {}

  @Get()
  @ApiOperation({ summary: 'Cron ticks, newest tick first (paged; filter by name and status)' })
  @ApiOkResponse({ type: CronRunPageDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Bad name, status, page or limit' })
  async list(@Query() query: CronRunQueryDto): Promise<CronRunPageDto> {
    const { rows, total } = await this.cronRuns.list(query);
    return adminPage(
      rows.map((run) => CronRunDto.from(run)),
      total,
      query,
    );
  }

  @Post(':id/rerun')
  @AdminActionRoute('cron-run.rerun', 'id')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Run one cron tick again',
    description:
      'For a tick that failed (however many attempts it had) or whose worker died (`running` ' +
      'past its lease). Queues a `rerun-cron-tick` job; the worker claims the tick as one more ' +
      'attempt and runs the same fan-out, which is safe to repeat.',
  })
  @ApiAcceptedResponse({ type: CronRunRerunAcceptedDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'The id is not a UUID' })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'No such cron run' })
  @ApiConflictResponse({
    type: ErrorResponseDto,
    description: 'Completed, held by a live worker, or its cron has no scheduler yet',
  })
  @ApiServiceUnavailableResponse({ type: ErrorResponseDto, description: 'Redis is unavailable' })
  async rerun(
    @CurrentUser() admin: User,
    @UuidParam('id') id: string,
  ): Promise<CronRunRerunAcceptedDto> {
    const { jobId, cronRun } = await this.cronRuns.rerun(id, admin.id);
    return { jobId, cronRun: CronRunDto.from(cronRun) };
  }
}
