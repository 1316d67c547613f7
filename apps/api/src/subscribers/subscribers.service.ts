import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { EncryptionService, EspConnection, SubscriberStatus } from '@subscribernest/shared';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { EspConnectionRepository } from '../esp-connections/esp-connection.repository';
import {
  SUBSCRIBERS_MAX_PAGED_ROWS,
  SubscriberListQueryDto,
} from './dto/subscriber-list-query.dto';
import { decodeSubscriberCursor, encodeSubscriberCursor } from './subscriber-cursor';
import { ListedSubscriber, SubscriberRepository, SubscriberSlice } from './subscriber.repository';

/** A page of rows and what the answer says about paging. */
export interface Page<T> {
  rows: T[];
  total: number;
  page: number | null;
  limit: number;
  totalPages: number;
  nextCursor: string | null;
}

/** How a list request reads: an offset page, or keyset from a cursor. */
export interface PagePlan {
  slice: SubscriberSlice;
  page: number | null;
  cursorKeys?: string[];
}

/**
 * Turns `?page=&limit=&cursor=` into a read: one row more than `limit` is read, to know whether
 * a next page exists. An offset page deeper than SUBSCRIBERS_MAX_PAGED_ROWS is a 400 naming
 * `cursor`. `cursorArity` is the number of keys in this list's cursor.
 */
export function planPage(query: SubscriberListQueryDto, cursorArity: number): PagePlan {
  const take = query.limit + 1;
  if (query.cursor !== undefined) {
    if (query.page !== undefined) {
      throw new BadRequestException({
        statusCode: 400,
        message: ['page and cursor cannot be used together'],
        error: 'Bad Request',
        fields: { page: ['page and cursor cannot be used together'] },
      });
    }
    return {
      slice: { status: query.status, take },
      page: null,
      cursorKeys: decodeSubscriberCursor(query.cursor, cursorArity),
    };
  }
  const page = query.page ?? 1;
  if (page * query.limit > SUBSCRIBERS_MAX_PAGED_ROWS) throw tooDeep(page, query.limit);
  return { slice: { status: query.status, take, skip: (page - 1) * query.limit }, page };
}

/** The 400 for an offset page beyond SUBSCRIBERS_MAX_PAGED_ROWS. */
function tooDeep(page: number, limit: number): BadRequestException {
  const message =
    `page × limit must be at most ${SUBSCRIBERS_MAX_PAGED_ROWS} (page ${page} × limit ${limit} ` +
    `is ${page * limit}): deeper rows are read with cursor (pass each answer's nextCursor), ` +
    'whose pages cost the same at any depth';
  return new BadRequestException({
    statusCode: 400,
    message: [message],
    error: 'Bad Request',
    fields: { page: [message] },
  });
}

/** The answer for `rows` read by `plan`; `cursorOf` gives a row's keyset position. */
export function toPage<T>(
  rows: T[],
  total: number,
  plan: PagePlan,
  limit: number,
  cursorOf: (row: T) => string[],
): Page<T> {
  const more = rows.length > limit;
  const shown = more ? rows.slice(0, limit) : rows;
  const last = shown.at(-1);
  return {
    rows: shown,
    total,
    page: plan.page,
    limit,
    totalPages: Math.ceil(total / limit),
    nextCursor: more && last ? encodeSubscriberCursor(cursorOf(last)) : null,
  };
}

const totalOf = (counts: Record<SubscriberStatus, number>) =>
  counts.active + counts.unsubscribed + counts.bounced;

/**
 * The stored copy of a connection's subscribers: paged lists (masked addresses only), counts per
 * status, and revealing one address to its owner — an audited event, logged without the address.
 */
@Injectable()
export class SubscribersService {
  constructor(
    private readonly subscribers: SubscriberRepository,
    private readonly connections: EspConnectionRepository,
    private readonly encryption: EncryptionService,
    @InjectPinoLogger(SubscribersService.name) private readonly logger: PinoLogger,
  ) {}

  /** The caller's connection, or 404. */
  async connectionOf(userId: string, connectionId: string): Promise<EspConnection> {
    const connection = await this.connections.findOneForUser(userId, connectionId);
    if (!connection) throw new NotFoundException('ESP connection not found');
    return connection;
  }

  async list(
    userId: string,
    connectionId: string,
    query: SubscriberListQueryDto,
  ): Promise<Page<ListedSubscriber>> {
    const plan = planPage(query, 1);
    // The page and the counts side by side: the page's query reaches rows only through the
    // user's connections, so for another user's connection it finds none, and the counts'
    // query (which checks the ownership) answers the 404.
    const [rows, counts] = await Promise.all([
      this.subscribers.findPageForUser(userId, connectionId, plan.slice, plan.cursorKeys?.[0]),
      this.countsOf(userId, connectionId),
    ]);
    const total = query.status ? counts[query.status] : totalOf(counts);
    return toPage(rows, total, plan, query.limit, (row) => [row.id]);
  }

  async stats(
    userId: string,
    connectionId: string,
  ): Promise<Record<SubscriberStatus, number> & { total: number }> {
    const counts = await this.countsOf(userId, connectionId);
    return { ...counts, total: totalOf(counts) };
  }

  /** The connection's counts per status, or 404 when it is not one of the user's. */
  private async countsOf(
    userId: string,
    connectionId: string,
  ): Promise<Record<SubscriberStatus, number>> {
    const counts = await this.subscribers.countsOfConnectionForUser(userId, connectionId);
    if (!counts) throw new NotFoundException('ESP connection not found');
    return counts;
  }

  /** The address in clear, for the owner of the subscriber's connection only (404 otherwise). */
  async unmask(userId: string, subscriberId: string): Promise<string> {
    const subscriber = await this.subscribers.findEncryptedEmailForUser(userId, subscriberId);
    if (!subscriber) throw new NotFoundException('Subscriber not found');
    const email = this.encryption.decrypt(subscriber.emailEncrypted);
    // The audit trail: who revealed which subscriber. Never the address itself.
    this.logger.info(
      {
        audit: 'subscriber.unmask',
        userId,
        subscriberId,
        espConnectionId: subscriber.espConnectionId,
      },
      'Subscriber email unmasked',
    );
    return email;
  }
}
