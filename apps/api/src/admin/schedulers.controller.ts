import { Controller, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiOperation,
  ApiParam,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { User } from '@subscribernest/shared';
import { CurrentUser } from '../auth/current-user.decorator';
import { AdminOnly } from '../auth/roles.decorator';
import { ErrorResponseDto } from '../http/error-response.dto';
import { SchedulerRunAcceptedDto } from './dto/scheduler-run-accepted.dto';
import { MANUAL_CRONS } from '@subscribernest/shared';
import { SchedulersService } from './schedulers.service';
import { AdminActionRoute } from './audit/admin-action-route.decorator';

@ApiTags('admin')
@AdminOnly()
@Controller('admin/schedulers')
export class SchedulersController {
  constructor(private readonly schedulers: SchedulersService) {}

  @Post(':name/run')
  @AdminActionRoute('scheduler.run', 'name')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Run a cron now',
    description:
      'Enqueues a manual tick (`run-cron` job) for the worker. One job per cron per minute, so ' +
      'a double click is harmless.',
  })
  @ApiParam({ name: 'name', enum: MANUAL_CRONS })
  @ApiAcceptedResponse({ type: SchedulerRunAcceptedDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Unknown cron name' })
  @ApiServiceUnavailableResponse({ type: ErrorResponseDto, description: 'Redis is unavailable' })
  run(@CurrentUser() admin: User, @Param('name') name: string): Promise<SchedulerRunAcceptedDto> {
    return this.schedulers.run(name, admin.id);
  }
}
