import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { User } from '@subscribernest/shared';
import { CurrentUser } from '../auth/current-user.decorator';
import { ErrorResponseDto } from '../http/error-response.dto';
import { BillingService } from './billing.service';
import { BillingHistoryQueryDto } from './dto/billing-history-query.dto';
import { BillingPeriodDto } from './dto/billing-period.dto';
import { BillingStatusDto } from './dto/billing-status.dto';
import { BillingUsageDto } from './dto/billing-usage.dto';

@ApiTags('billing')
@Controller('billing')
export class BillingController {
  constructor(private readonly billing: BillingService) {}

  @Get('status')
  @ApiOperation({
    summary: "The caller's subscription",
    description:
      'Billing is not enabled on this server (Stripe is not configured): every user counts as ' +
      'subscribed, with no subscription and no period end.',
  })
  @ApiOkResponse({ type: BillingStatusDto })
  status(): BillingStatusDto {
    return this.billing.status();
  }

  @Get('usage')
  @ApiOperation({
    summary: 'The current UTC month so far',
    description:
      "The billed count (the sum over the caller's connections of each one's highest stored " +
      'subscriber count this month, from the snapshots the sync writes) and its price in dollars.',
  })
  @ApiOkResponse({ type: BillingUsageDto })
  usage(@CurrentUser() user: User): Promise<BillingUsageDto> {
    return this.billing.usage(user.id);
  }

  @Get('history')
  @ApiOperation({ summary: "The caller's billing periods, newest first" })
  @ApiOkResponse({ type: [BillingPeriodDto] })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Bad limit' })
  history(
    @CurrentUser() user: User,
    @Query() query: BillingHistoryQueryDto,
  ): Promise<BillingPeriodDto[]> {
    return this.billing.history(user.id, query.limit);
  }
}
