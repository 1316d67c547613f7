import { Controller, Get, HttpCode, HttpStatus, Post, Query } from '@nestjs/common';
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
import { UuidParam } from '../http/uuid-param.decorator';
import { SubscriberListQueryDto } from './dto/subscriber-list-query.dto';
import { SubscriberPageDto } from './dto/subscriber-page.dto';
import { SubscriberStatsDto } from './dto/subscriber-stats.dto';
import { SubscriberDto } from './dto/subscriber.dto';
import { UnmaskedEmailDto } from './dto/unmasked-email.dto';
import { SubscribersService } from './subscribers.service';
import { AllowedDuringDeletion } from '../account/allowed-during-deletion.decorator';

const CONNECTION_NOT_FOUND = {
  type: ErrorResponseDto,
  description: 'No such connection of the caller',
};

@ApiTags('subscribers')
@Controller()
export class SubscriberController {
  constructor(private readonly subscribers: SubscribersService) {}

  @Get('esp-connections/:id/subscribers')
  @ApiOperation({
    summary: "A connection's stored subscribers, paged",
    description:
      'Masked addresses only, in a stable order. Page with `page` + `limit`, or walk the list ' +
      'with `cursor` (the previous answer’s `nextCursor`), whose cost does not grow with depth. ' +
      'Offset pages reach `page × limit` ≤ 10,000 rows; deeper is a 400 pointing to `cursor`. ' +
      '`total` is maintained with the data (per connection and status), never counted per request.',
  })
  @ApiOkResponse({ type: SubscriberPageDto })
  @ApiBadRequestResponse({
    type: ErrorResponseDto,
    description: 'Bad id, page (page × limit at most 10,000), limit (1–100), status or cursor',
  })
  @ApiNotFoundResponse(CONNECTION_NOT_FOUND)
  async list(
    @CurrentUser() user: User,
    @UuidParam('id') id: string,
    @Query() query: SubscriberListQueryDto,
  ): Promise<SubscriberPageDto> {
    const { rows, ...paging } = await this.subscribers.list(user.id, id, query);
    return { data: rows.map((row) => SubscriberDto.from(row)), ...paging };
  }

  @Get('esp-connections/:id/subscriber-stats')
  @ApiOperation({ summary: "A connection's stored subscribers by status" })
  @ApiOkResponse({ type: SubscriberStatsDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'The id is not a UUID' })
  @ApiNotFoundResponse(CONNECTION_NOT_FOUND)
  stats(@CurrentUser() user: User, @UuidParam('id') id: string): Promise<SubscriberStatsDto> {
    return this.subscribers.stats(user.id, id);
  }

  @Post('subscribers/:id/unmask')
  // Revealing an address is a read: allowed while an account deletion is pending.
  @AllowedDuringDeletion()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: "A subscriber's address in clear",
    description:
      'Only for the owner of the subscriber’s connection. Recorded as an audit event (user, ' +
      'subscriber, connection; never the address).',
  })
  @ApiOkResponse({ type: UnmaskedEmailDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'The id is not a UUID' })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'No such subscriber of the caller' })
  async unmask(@CurrentUser() user: User, @UuidParam('id') id: string): Promise<UnmaskedEmailDto> {
    return { email: await this.subscribers.unmask(user.id, id) };
  }
}
