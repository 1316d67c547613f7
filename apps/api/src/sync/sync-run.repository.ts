import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { EspConnection, OutboxEvent, SyncRequestedEvent, SyncRun } from '@subscribernest/shared';
import { DataSource, EntityManager, In } from 'typeorm';

/** What one manual sync request came to, decided inside its transaction. */
export type SyncRequestOutcome =
  | { kind: 'not-found' }
  /** The connection is `invalid` (rejected key) or `disconnected` (being deleted). */
  | { kind: 'inactive'; connection: EspConnection }
  /** A new run, its connection marked `syncing`, and its outbox event: all committed together. */
  | { kind: 'created'; run: SyncRun; connection: EspConnection }
  /** A run of this connection was already queued or running: that one is the answer. */
  | { kind: 'existing'; run: SyncRun; connection: EspConnection }
  /** The unfinished run that blocked ours finished before we could read it: ask again. */
  | { kind: 'raced' };

/**
 * Queries on `sync_runs`, and the one transaction that accepts a manual sync (ARCHITECTURE §4).
 * Every method takes the caller's `userId`.
 */
@Injectable()
export class SyncRunRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * In one transaction: lock the user's connection row, insert the `sync_runs` row (queued,
   * manual, id = `event.syncRunId`), mark the connection `syncing`, and write the outbox row of
   * `event`. `sync_runs_one_unfinished_per_connection_key` decides races: when another unfinished
   * run holds it, nothing is written and that run is returned instead.
   */
  requestManualSync(
    userId: string,
    connectionId: string,
    event: SyncRequestedEvent,
  ): Promise<SyncRequestOutcome> {
    return this.dataSource.transaction(async (manager) => {
      const connection = await manager
        .createQueryBuilder(EspConnection, 'connection')
        .where('connection.id = :connectionId AND connection.userId = :userId', {
          connectionId,
          userId,
        })
        // Serialises triggers of one connection and holds off a concurrent delete; FK checks
        // (a running sync writing subscribers) are not blocked by this lock mode.
        .setLock('for_no_key_update')
        .getOne();
      if (!connection) return { kind: 'not-found' };
      if (connection.status !== 'active') return { kind: 'inactive', connection };

      const inserted = await manager.query<{ id: string }[]>(
        `INSERT INTO sync_runs (id, esp_connection_id, user_id, trigger, status)
         VALUES ($1, $2, $3, 'manual', 'queued')
         ON CONFLICT (esp_connection_id) WHERE status IN ('queued', 'running') DO NOTHING
         RETURNING id`,
        [event.syncRunId, connectionId, userId],
      );
      if (inserted.length === 0) {
        const existing = await this.findUnfinished(manager, userId, connectionId);
        return existing ? { kind: 'existing', run: existing, connection } : { kind: 'raced' };
      }

      await manager.update(EspConnection, { id: connectionId, userId }, { syncStatus: 'syncing' });
      await manager.insert(OutboxEvent, {
        id: event.eventId,
        eventType: SyncRequestedEvent.eventName,
        payload: { ...event.toPayload() },
      });
      return {
        kind: 'created',
        run: await manager.findOneByOrFail(SyncRun, { id: event.syncRunId }),
        connection: await manager.findOneByOrFail(EspConnection, { id: connectionId, userId }),
      };
    });
  }

  /** The newest runs of one of the user's connections, newest first. */
  findRecentForUser(userId: string, connectionId: string, limit: number): Promise<SyncRun[]> {
    return this.dataSource.getRepository(SyncRun).find({
      where: { userId, espConnectionId: connectionId },
      order: { createdAt: 'DESC', id: 'DESC' },
      take: limit,
    });
  }

  private findUnfinished(
    manager: EntityManager,
    userId: string,
    connectionId: string,
  ): Promise<SyncRun | null> {
    return manager.findOneBy(SyncRun, {
      userId,
      espConnectionId: connectionId,
      status: In(['queued', 'running']),
    });
  }
}
