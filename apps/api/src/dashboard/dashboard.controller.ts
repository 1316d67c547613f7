import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { User } from '@subscribernest/shared';
import { CurrentUser } from '../auth/current-user.decorator';
import { ErrorResponseDto } from '../http/error-response.dto';
import { SubscriberListQueryDto } from '../subscribers/dto/subscriber-list-query.dto';
import { DashboardService } from './dashboard.service';
import { DashboardStatsDto } from './dto/dashboard-stats.dto';
import {
  DashboardSubscriberDto,
  DashboardSubscriberPageDto,
} from './dto/dashboard-subscriber-page.dto';

@ApiTags('dashboard')
@Controller('dashboard')
export class DashboardController {
  constructor(private readonly dashboard: DashboardService) {}

  @Get('stats')
  @ApiOperation({ summary: "The caller's connections, stored subscribers and last sync" })
  @ApiOkResponse({ type: DashboardStatsDto })
  async stats(@CurrentUser() user: User): Promise<DashboardStatsDto> {
    const totals = await this.dashboard.totals(user.id);
    return {
      totalEspConnections: totals.connections,
      totalSubscribers: totals.subscribers,
      lastSyncTime: totals.lastSyncedAt?.toISOString() ?? null,
    };
  }

  @Get('subscribers')
  @ApiOperation({
    summary: "The caller's subscribers across all connections, paged",
    description:
      'Like GET /esp-connections/:id/subscribers (page/limit, status, cursor), each row with ' +
      'its connection and ESP. Offset pages reach `page × limit` ≤ 10,000 rows; deeper is a 400 ' +
      'pointing to `cursor`.',
  })
  @ApiOkResponse({ type: DashboardSubscriberPageDto })
  @ApiBadRequestResponse({
    type: ErrorResponseDto,
    description: 'Bad page (page × limit at most 10,000), limit (1–100), status or cursor',
  })
  async subscribers(
    @CurrentUser() user: User,
    @Query() query: SubscriberListQueryDto,
  ): Promise<DashboardSubscriberPageDto> {
    const { rows, ...paging } = await this.dashboard.subscribers(user.id, query);
    return { data: rows.map((row) => DashboardSubscriberDto.fromListed(row)), ...paging };
  }
}
