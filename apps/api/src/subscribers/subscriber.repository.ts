import { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EspType, Subscriber, SubscriberCount, SubscriberStatus } from '@subscribernest/shared';
import { DataSource, Repository, SelectQueryBuilder } from 'typeorm';
import { escapeLiteral } from 'pg';
import { openCopyRows } from './subscriber-export-copy';

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

/**
 * Why the list reads below name their connection as a range (`esp_connection_id >= $c AND
 * esp_connection_id <= $c`) or a row comparison, never `esp_connection_id = $c`, and order by
 * the index's columns: ids are time-ordered (uuid_v7), so a list synced in one go is a
 * contiguous run of the primary key. With `= $c … ORDER BY id`, the planner drops the constant
 * from the order and, for a connection that holds most of the table, reads along the primary
 * key, filtering, assuming the connection's rows are spread evenly over it; when they come after
 * another connection's rows, every first or offset page read all of those first (a 2M list
 * behind 200k other rows: 65 ms a page instead of 0.6 ms, and 30 list requests a second instead
 * of 400). Without an equality there is no constant to drop: only the `(esp_connection_id, id)`
 * and `(esp_connection_id, status, id)` indexes give the order, and the range (or the row
 * comparison, for a keyset position) is where their scan starts and ends.
 */
function listRange(status: SubscriberStatus | undefined, afterId: string | undefined): string {
  if (status) {
    const start = afterId
      ? '(subscriber.espConnectionId, subscriber.status, subscriber.id) > (:connectionId, :status, :afterId)'
      : '(subscriber.espConnectionId, subscriber.status) >= (:connectionId, :status)';
    return `${start} AND (subscriber.espConnectionId, subscriber.status) <= (:connectionId, :status)`;
  }
  const start = afterId
    ? '(subscriber.espConnectionId, subscriber.id) > (:connectionId, :afterId)'
    : 'subscriber.espConnectionId >= :connectionId';
  return `${start} AND subscriber.espConnectionId <= :connectionId`;
}

/**
 * The export's rows, for the connection and user the two SQL expressions give (bind parameters
 * for a plain query; literals inside COPY, which takes none). The columns are ExportSubscriberRow's.
 */
export const exportSelect = (connection: string, user: string) => `
  SELECT s.email_encrypted, s.first_name, s.last_name, s.status,
         ${isoUtc('s.subscribed_at')} AS subscribed_at,
         ${isoUtc('s.unsubscribed_at')} AS unsubscribed_at, s.external_id
    FROM subscribers s
    JOIN esp_connections c ON c.id = s.esp_connection_id AND c.user_id = ${user}
   WHERE s.esp_connection_id >= ${connection} AND s.esp_connection_id <= ${connection} -- a range: see listRange
   ORDER BY s.esp_connection_id, s.id`;

/** The export's statement; its leading comment names it in pg_stat_activity and the logs. */
export const exportCopyStatement = (connectionId: string, userId: string) =>
  `/* subscribers.export */ COPY (${exportSelect(escapeLiteral(connectionId), escapeLiteral(userId))}) TO STDOUT`;

/** A row of the export's COPY, its fields in exportSelect's order. */
function exportRowOf(fields: (string | null)[]): ExportSubscriberRow {
  return {
    email_encrypted: fields[0]!,
    first_name: fields[1],
    last_name: fields[2],
    status: fields[3] as SubscriberStatus,
    subscribed_at: fields[4],
    unsubscribed_at: fields[5],
    external_id: fields[6]!,
  };
}

/**
 * Queries on `subscribers`. Every method takes the caller's `userId` and reaches rows only
 * through that user's connections (an inner join on `esp_connections.user_id`), so another
 * user's subscribers do not exist here. A connection's list is in id order, which the
 * `(esp_connection_id, id)` and `(esp_connection_id, status, id)` indexes serve directly (see
 * listRange): a keyset page (`id > last`) costs the same however deep it is. Totals come from
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
    return this.pageQuery(userId, connectionId, slice, afterId).getMany();
  }

  /** The query of `findPageForUser` (public for the test of its plan). */
  pageQuery(
    userId: string,
    connectionId: string,
    slice: SubscriberSlice,
    afterId?: string,
  ): SelectQueryBuilder<Subscriber> {
    const query = this.userQuery(userId)
      .andWhere(listRange(slice.status, afterId), {
        connectionId,
        ...(slice.status && { status: slice.status }),
        ...(afterId && { afterId }),
      })
      .select(LISTED_COLUMNS)
      .orderBy('subscriber.espConnectionId', 'ASC');
    if (slice.status) query.addOrderBy('subscriber.status', 'ASC');
    return query.addOrderBy('subscriber.id', 'ASC').limit(slice.take).offset(slice.skip);
  }

  /**
   * The connection's subscribers per status, from `subscriber_counts` (kept exact by triggers in
   * the transactions that change `subscribers`), or null when the connection is not one of the
   * user's: the ownership check and the counts in one round trip, at most three rows read
   * whatever the list's size. (A connection with no subscribers has no counts rows yet: the
   * outer join still finds the connection, so that is zeros, not null.)
   */
  async countsOfConnectionForUser(
    userId: string,
    connectionId: string,
  ): Promise<Record<SubscriberStatus, number> | null> {
    const rows = await this.subscribers.query<{ status: SubscriberStatus | null; count: string }[]>(
      `/* subscribers.counts */
       SELECT counts.status, counts.count
         FROM esp_connections connection
         LEFT JOIN subscriber_counts counts ON counts.esp_connection_id = connection.id
        WHERE connection.id = $1 AND connection.user_id = $2`,
      [connectionId, userId],
    );
    if (rows.length === 0) return null;
    const counts: Record<SubscriberStatus, number> = { active: 0, unsubscribed: 0, bounced: 0 };
    for (const row of rows) if (row.status) counts[row.status] = Number(row.count);
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
   * A connection's subscribers for an export, in id order, read by one COPY on a connection of
   * `exportPool` (the exports' own pool, never the one every route uses: see ExportDatabase):
   * batches of rows (chunks of the stream, arrays), read only as fast as the stream is, and the
   * connection goes back to the pool when the stream ends or is destroyed (see `openCopyRows`).
   * The `(esp_connection_id, id)` index serves the order, so the first rows come at once
   * whatever the list's size.
   */
  openExportForUser(
    exportPool: DataSource,
    userId: string,
    connectionId: string,
  ): Promise<Readable & AsyncIterable<ExportSubscriberRow[]>> {
    return openCopyRows(exportPool, exportCopyStatement(connectionId, userId), exportRowOf);
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
}
