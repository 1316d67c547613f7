import { Injectable } from '@nestjs/common';
import { SubscriberListQueryDto } from '../subscribers/dto/subscriber-list-query.dto';
import {
  ListedSubscriberWithEsp,
  SubscriberRepository,
} from '../subscribers/subscriber.repository';
import { Page, planPage, toPage } from '../subscribers/subscribers.service';
import { DashboardRepository, UserTotals } from './dashboard.repository';

/** What the dashboard shows: the caller's totals, and their subscribers across connections. */
@Injectable()
export class DashboardService {
  constructor(
    private readonly dashboard: DashboardRepository,
    private readonly subscriberRows: SubscriberRepository,
  ) {}

  totals(userId: string): Promise<UserTotals> {
    return this.dashboard.totalsForUser(userId);
  }

  /** Paged like a connection's list; the cursor holds (connection id, id). */
  async subscribers(
    userId: string,
    query: SubscriberListQueryDto,
  ): Promise<Page<ListedSubscriberWithEsp>> {
    const plan = planPage(query, 2);
    const after = plan.cursorKeys
      ? { connectionId: plan.cursorKeys[0], id: plan.cursorKeys[1] }
      : undefined;
    const [rows, total] = await Promise.all([
      this.subscriberRows.findPageAcrossConnectionsForUser(userId, plan.slice, after),
      this.subscriberRows.countAcrossConnectionsForUser(userId, query.status),
    ]);
    return toPage(rows, total, plan, query.limit, (row) => [row.espConnectionId, row.id]);
  }
}
