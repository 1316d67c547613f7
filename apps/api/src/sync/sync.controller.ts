import { Controller, Get, HttpCode, HttpStatus, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { User } from '@subscribernest/shared';
import { CurrentUser } from '../auth/current-user.decorator';
import { SubscriptionRequired } from '../billing/subscription-required.decorator';
import { EspConnectionDto } from '../esp-connections/dto/esp-connection.dto';
import { ErrorResponseDto } from '../http/error-response.dto';
import { UuidParam } from '../http/uuid-param.decorator';
import { SyncAcceptedDto } from './dto/sync-accepted.dto';
import { SyncHistoryQueryDto } from './dto/sync-history-query.dto';
import { SyncRunDto } from './dto/sync-run.dto';
import { RequestId, RequestTraceparent } from '../http/request-id.decorator';
import { SyncService } from './sync.service';

const NOT_FOUND = { type: ErrorResponseDto, description: 'No such connection of the caller' };

@ApiTags('sync')
@Controller('esp-connections')
export class SyncController {
  constructor(private readonly sync: SyncService) {}

  @Post(':id/sync')
  @HttpCode(HttpStatus.ACCEPTED)
  @SubscriptionRequired('sync a connection')
  @ApiOperation({
    summary: 'Sync a connection now',
    description:
      'Records a queued sync run and a sync-requested event in one transaction; the worker runs ' +
      'it. While a sync of the connection is queued or running, answers with that run instead. ' +
      'With Stripe billing enabled, needs an active subscription (402 otherwise).',
  })
  @ApiAcceptedResponse({ type: SyncAcceptedDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'The id is not a UUID' })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiConflictResponse({
    type: ErrorResponseDto,
    description: 'The ESP rejected the stored key (save a new one first)',
  })
  async requestSync(
    @CurrentUser() user: User,
    @UuidParam('id') id: string,
    @RequestId() requestId: string | undefined,
    @RequestTraceparent() traceparent: string | undefined,
  ): Promise<SyncAcceptedDto> {
    const { run, connection, created } = await this.sync.requestSync(user.id, id, {
      correlationId: requestId,
      traceparent,
    });
    const status = run.status === 'running' ? 'running' : 'queued';
    return {
      jobId: run.id,
      status,
      message: created ? 'Sync queued' : `A sync of this connection is already ${status}`,
      connection: EspConnectionDto.from(connection),
    };
  }

  @Get(':id/sync-history')
  @ApiOperation({ summary: "A connection's sync runs, newest first" })
  @ApiOkResponse({ type: [SyncRunDto] })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Bad id or limit' })
  @ApiNotFoundResponse(NOT_FOUND)
  async history(
    @CurrentUser() user: User,
    @UuidParam('id') id: string,
    @Query() query: SyncHistoryQueryDto,
  ): Promise<SyncRunDto[]> {
    return (await this.sync.history(user.id, id, query.limit)).map((run) => SyncRunDto.from(run));
  }
}
