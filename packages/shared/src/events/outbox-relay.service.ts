import { Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import { OutboxEvent } from '../entities/outbox-event.entity';
import { JobProducer } from '../queues/job-producer';
import { JobPayloads } from '../queues/job-payloads';
import { isEventName } from './domain-event';
import { METRICS } from '../metrics/metric-catalog';
import { counterOf } from '../metrics/metrics';

/** `last_error` is for people; keep it short. */
const MAX_ERROR_LENGTH = 1_000;

/** The part of an outbox row that publishing needs. */
export type OutboxMessage = Pick<OutboxEvent, 'id' | 'eventType' | 'payload'>;

/**
 * Publishes one outbox row to the `domain-events` queue (job name = event type, job id = event
 * id, so publishing twice is harmless) and marks it published. Used by the api's fast path right
 * after the transaction that wrote the row commits, and by the worker's sweeper for rows that
 * path missed. Never throws for Redis trouble: a row it cannot publish stays unpublished, with
 * the attempt counted and the reason kept in `last_error`, for the sweeper to retry.
 */
@Injectable()
export class OutboxRelayService {
  private readonly logger = new Logger(OutboxRelayService.name);
  private readonly failures = counterOf(METRICS.outboxRelayFailures);

  constructor(
    private readonly producer: JobProducer,
    private readonly dataSource: DataSource,
  ) {}

  /**
   * True once the event is on the queue (and, unless the database failed just then, the row
   * marked published); false when it stays pending. A row left unmarked is re-published by the
   * sweeper, which the job id makes harmless.
   *
   * `manager`: the transaction holding the row's lock (the sweeper's `FOR UPDATE SKIP LOCKED`
   * batch); the row is marked or its failure recorded in that transaction. Without it (the api's
   * fast path) each update runs on its own.
   */
  async publish(message: OutboxMessage, manager?: EntityManager): Promise<boolean> {
    return this.record(message, await this.enqueue(message), manager);
  }

  /**
   * The Redis half of `publish`: adds the event job, each Redis step bounded in time.
   * Null once it is on the queue, otherwise why not. Touches no database, so a batch can run its
   * adds side by side while its row updates take turns on the batch's one connection.
   */
  async enqueue(message: OutboxMessage): Promise<string | null> {
    try {
      if (!isEventName(message.eventType)) {
        throw new Error(`unknown event type "${message.eventType}"`);
      }
      // Bounded in time (JobProducer): a Redis outage leaves the row pending, never hangs.
      await this.producer.add(
        message.eventType,
        message.payload as unknown as JobPayloads[typeof message.eventType],
        message.id,
      );
      return null;
    } catch (error) {
      this.failures.inc();
      return (error as Error).message.slice(0, MAX_ERROR_LENGTH);
    }
  }

  /**
   * The database half of `publish`: marks the row published, or records `failure` on it. True
   * when the event is on the queue.
   */
  async record(
    message: OutboxMessage,
    failure: string | null,
    manager?: EntityManager,
  ): Promise<boolean> {
    const db = manager ?? this.dataSource.manager;
    if (failure !== null) {
      await this.recordFailure(db, message.id, failure);
      this.logger.warn({
        msg: 'Outbox event not published; it stays pending for the sweeper',
        eventId: message.id,
        eventType: message.eventType,
        reason: failure,
      });
      return false;
    }
    try {
      await this.markPublished(db, message.id);
    } catch (error) {
      this.logger.warn({
        msg: 'Outbox event published but not marked; the sweeper will re-publish it harmlessly',
        eventId: message.id,
        reason: (error as Error).message,
      });
      return true;
    }
    this.logger.log({
      msg: 'Outbox event published',
      eventId: message.id,
      eventType: message.eventType,
    });
    return true;
  }

  private async markPublished(db: EntityManager, id: string): Promise<void> {
    await db
      .createQueryBuilder()
      .update(OutboxEvent)
      .set({
        publishedAt: () => 'now()',
        publishAttempts: () => 'publish_attempts + 1',
        lastError: null,
      })
      .where({ id, publishedAt: IsNull() })
      .execute();
  }

  /** Best effort: the database may be what failed; the row is pending either way. */
  private async recordFailure(db: EntityManager, id: string, reason: string): Promise<void> {
    try {
      await db
        .createQueryBuilder()
        .update(OutboxEvent)
        .set({ publishAttempts: () => 'publish_attempts + 1', lastError: reason })
        .where({ id, publishedAt: IsNull() })
        .execute();
    } catch (error) {
      this.logger.warn({
        msg: 'Could not record the outbox publish failure',
        eventId: id,
        reason: (error as Error).message,
      });
    }
  }
}
