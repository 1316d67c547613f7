import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface UserTotals {
  connections: number;
  subscribers: number;
  lastSyncedAt: Date | null;
}

/**
 * The dashboard's totals for one user, in one round trip; the subscribers from `subscriber_counts`
 * (exact, kept by triggers), never a `count(*)` over every list.
 */
@Injectable()
export class DashboardRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async totalsForUser(userId: string): Promise<UserTotals> {
    const [row] = await this.dataSource.query<
      { connections: string; subscribers: string; last_synced_at: Date | null }[]
    >(
      `SELECT (SELECT count(*) FROM esp_connections WHERE user_id = $1) AS connections,
              (SELECT coalesce(sum(sc.count), 0)
                 FROM subscriber_counts sc
                 JOIN esp_connections c ON c.id = sc.esp_connection_id
                WHERE c.user_id = $1) AS subscribers,
              (SELECT max(last_synced_at) FROM esp_connections WHERE user_id = $1)
                AS last_synced_at`,
      [userId],
    );
    return {
      connections: Number(row?.connections ?? 0),
      subscribers: Number(row?.subscribers ?? 0),
      lastSyncedAt: row?.last_synced_at ?? null,
    };
  }
}
