import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface UserTotals {
  connections: number;
  subscribers: number;
  lastSyncedAt: Date | null;
}

/** The dashboard's totals for one user, in one round trip. */
@Injectable()
export class DashboardRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async totalsForUser(userId: string): Promise<UserTotals> {
    const [row] = await this.dataSource.query<
      { connections: string; subscribers: string; last_synced_at: Date | null }[]
    >(
      `SELECT (SELECT count(*) FROM esp_connections WHERE user_id = $1) AS connections,
              (SELECT count(*)
                 FROM subscribers s
                 JOIN esp_connections c ON c.id = s.esp_connection_id
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
