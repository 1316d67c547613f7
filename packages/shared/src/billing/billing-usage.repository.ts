import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * What a user is billed for, read from `subscriber_count_snapshots`. Each successful sync writes
 * its connection's row for the UTC day (overwriting that day's earlier one): the count of every
 * subscriber row stored for the connection, whatever the subscriber's status. The billed count of
 * a month is the sum over the user's connections of each connection's highest count that month.
 * Rows from before snapshots were per connection (no connection id: the user's daily total then)
 * count as one connection of their own.
 */
@Injectable()
export class BillingUsageRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * The sum over the user's connections of each one's highest stored count with
   * `startDay <= day < endDay` (`YYYY-MM-DD`, UTC); 0 without snapshots.
   */
  async billedSubscriberCount(userId: string, startDay: string, endDay: string): Promise<number> {
    const [row] = await this.dataSource.query<{ billed: number }[]>(
      `SELECT coalesce(sum(peak), 0)::int AS billed
         FROM (SELECT max(subscriber_count) AS peak
                 FROM subscriber_count_snapshots
                WHERE user_id = $1 AND day >= $2::date AND day < $3::date
                GROUP BY esp_connection_id) AS connections`,
      [userId, startDay, endDay],
    );
    return row.billed;
  }
}
