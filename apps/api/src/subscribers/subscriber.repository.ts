import { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EspType, Subscriber, SubscriberCount, SubscriberStatus } from '@subscribernest/shared';
import { DataSource, Repository, SelectQueryBuilder } from 'typeorm';
import { openCursor } from './subscriber-export-cursor';

/** Which slice of a list to read: an offset page, or the rows after a keyset position. */
export interface SubscriberSlice {
  status?: SubscriberStatus;
  /** Rows to read (callers ask for one more than they answer, to know whether more follow). */
  take: number;
  /** Offset paging: rows to skip. */
  skip?: number;
}

/** A row of a list: what SubscriberDto shows, nothing secret. */
export type ListedSubscriber = Pick<
  Subscriber,
  | 'id'
  | 'espConnectionId'
  | 'emailMasked'
  | 'firstName'
  | 'lastName'
  | 'status'
  | 'subscribedAt'
  | 'unsubscribedAt'
>;

export type ListedSubscriberWithEsp = ListedSubscriber & { espType: EspType };

/** A row of an export, address still encrypted, times as ISO 8601 UTC text. */
export interface ExportSubscriberRow {
  email_encrypted: string;
  first_name: string | null;
  last_name: string | null;
  status: SubscriberStatus;
  subscribed_at: string | null;
  unsubscribed_at: string | null;
  external_id: string;
}

const LISTED_COLUMNS = [
  'subscriber.id',
  'subscriber.espConnectionId',
  'subscriber.emailMasked',
  'subscriber.firstName',
  'subscriber.lastName',
  'subscriber.status',
  'subscriber.subscribedAt',
  'subscriber.unsubscribedAt',
];

/**
 * A timestamptz as `Date#toISOString()` writes it (`2024-01-01T00:00:00.000Z`), formatted by
 * Postgres: an export then parses no date per row (pg's date parsing and the re-formatting were
 * a tenth of a large export's CPU).
 */
const isoUtc = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** The export's query; its leading comment names it in pg_stat_activity and the logs. */
export const EXPORT_QUERY = `/* subscribers.export */
  SELECT s.email_encrypted, s.first_name, s.last_name, s.status,
         ${isoUtc('s.subscribed_at')} AS subscribed_at,
         ${isoUtc('s.unsubscribed_at')} AS unsubscribed_at, s.external_id
    FROM subscribers s
    JOIN esp_connections c ON c.id = s.esp_connection_id AND c.user_id = $2
   WHERE s.esp_connection_id = $1
   ORDER BY s.id`;

/**
 * Queries on `subscribers`. Every method takes the caller's `userId` and reaches rows only
 * through that user's connections (an inner join on `esp_connections.user_id`), so another
 * user's subscribers do not exist here. Lists are in id order, which the
 * `(esp_connection_id, id)` and `(esp_connection_id, status, id)` indexes serve directly: a
 * keyset page (`id > last`) costs the same however deep it is. Totals come from
 * `subscriber_counts`, never a `count(*)` over a list.
 */
@Injectable()
export class SubscriberRepository {
  constructor(@InjectRepository(Subscriber) private readonly subscribers: Repository<Subscriber>) {}

  /** One page of a connection's subscribers, after `afterId` when given. */
  findPageForUser(
    userId: string,
    connectionId: string,
    slice: SubscriberSlice,
    afterId?: string,
  ): Promise<ListedSubscriber[]> {
    const query = this.connectionQuery(userId, connectionId, slice.status)
      .select(LISTED_COLUMNS)
      .orderBy('subscriber.id', 'ASC')
      .limit(slice.take)
      .offset(slice.skip);
    if (afterId) query.andWhere('subscriber.id > :afterId', { afterId });
    return query.getMany();
  }

  /**
   * How many subscribers of the connection (in `status`, when given), from `subscriber_counts`
   * (kept exact by triggers in the transactions that change `subscribers`): at most three rows
   * read, whatever the list's size.
   */
  async countForUser(
    userId: string,
    connectionId: string,
    status?: SubscriberStatus,
  ): Promise<number> {
    const counts = await this.countByStatusForUser(userId, connectionId);
    return status ? counts[status] : counts.active + counts.unsubscribed + counts.bounced;
  }

  /** Subscribers of the connection per status, from `subscriber_counts`. */
  async countByStatusForUser(
    userId: string,
    connectionId: string,
  ): Promise<Record<SubscriberStatus, number>> {
    const rows = await this.countsQuery(userId)
      .andWhere('counts.espConnectionId = :connectionId', { connectionId })
      .select('counts.status', 'status')
      .addSelect('counts.count', 'count')
      .getRawMany<{ status: SubscriberStatus; count: number }>();
    const counts: Record<SubscriberStatus, number> = { active: 0, unsubscribed: 0, bounced: 0 };
    for (const row of rows) counts[row.status] = Number(row.count);
    return counts;
  }

  /** A subscriber's encrypted address and connection, if it belongs to one of the user's. */
  findEncryptedEmailForUser(
    userId: string,
    subscriberId: string,
  ): Promise<Pick<Subscriber, 'id' | 'espConnectionId' | 'emailEncrypted'> | null> {
    return this.subscribers
      .createQueryBuilder('subscriber')
      .innerJoin('subscriber.espConnection', 'connection', 'connection.userId = :userId', {
        userId,
      })
      .select(['subscriber.id', 'subscriber.espConnectionId', 'subscriber.emailEncrypted'])
      .where('subscriber.id = :subscriberId', { subscriberId })
      .getOne();
  }

  /**
   * A connection's subscribers for an export, in id order, as a server-side cursor on a
   * connection of `exportPool` (the exports' own pool, never the one every route uses: see
   * ExportDatabase): `batchSize` rows are fetched at a time (a chunk of the stream, an array),
   * only as fast as the stream is read,
   * and the connection goes back to the pool when the stream ends or is destroyed (see
   * `openCursor`). The `(esp_connection_id, id)` index serves the order, so the first rows come
   * at once whatever the list's size.
   */
  openExportCursorForUser(
    exportPool: DataSource,
    userId: string,
    connectionId: string,
    batchSize: number,
  ): Promise<Readable & AsyncIterable<ExportSubscriberRow[]>> {
    return openCursor<ExportSubscriberRow>(
      exportPool,
      EXPORT_QUERY,
      [connectionId, userId],
      batchSize,
    );
  }

  /**
   * One page of the user's subscribers across all their connections, in (connection id, id)
   * order, after the keyset position `after` when given, each with its connection's ESP.
   */
  async findPageAcrossConnectionsForUser(
    userId: string,
    slice: SubscriberSlice,
    after?: { connectionId: string; id: string },
  ): Promise<ListedSubscriberWithEsp[]> {
    const query = this.userQuery(userId, slice.status)
      .select([...LISTED_COLUMNS, 'connection.id', 'connection.espType'])
      .orderBy('subscriber.espConnectionId', 'ASC')
      .addOrderBy('subscriber.id', 'ASC')
      .limit(slice.take)
      .offset(slice.skip);
    if (after) {
      query.andWhere('(subscriber.espConnectionId, subscriber.id) > (:afterConnection, :afterId)', {
        afterConnection: after.connectionId,
        afterId: after.id,
      });
    }
    const rows = await query.getMany();
    return rows.map(({ espConnection, ...subscriber }) => ({
      ...subscriber,
      espType: espConnection!.espType,
    }));
  }

  /**
   * How many subscribers the user has across all connections (in `status`, when given), from
   * `subscriber_counts`: three rows per connection at most.
   */
  async countAcrossConnectionsForUser(userId: string, status?: SubscriberStatus): Promise<number> {
    const query = this.countsQuery(userId).select('coalesce(sum(counts.count), 0)', 'count');
    if (status) query.andWhere('counts.status = :status', { status });
    const row = await query.getRawOne<{ count: string }>();
    return Number(row?.count ?? 0);
  }

  /** The user's rows of `subscriber_counts` (through their connections). */
  private countsQuery(userId: string): SelectQueryBuilder<SubscriberCount> {
    return this.subscribers.manager
      .createQueryBuilder(SubscriberCount, 'counts')
      .innerJoin('counts.espConnection', 'connection', 'connection.userId = :userId', { userId });
  }

  private userQuery(userId: string, status?: SubscriberStatus): SelectQueryBuilder<Subscriber> {
    const query = this.subscribers
      .createQueryBuilder('subscriber')
      .innerJoin('subscriber.espConnection', 'connection', 'connection.userId = :userId', {
        userId,
      });
    if (status) query.andWhere('subscriber.status = :status', { status });
    return query;
  }

  private connectionQuery(
    userId: string,
    connectionId: string,
    status?: SubscriberStatus,
  ): SelectQueryBuilder<Subscriber> {
    return this.userQuery(userId, status).andWhere('subscriber.espConnectionId = :connectionId', {
      connectionId,
    });
  }
}
