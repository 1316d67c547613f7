import { Injectable } from '@nestjs/common';
import {
  EspConnection,
  SubscriberStatus,
  SyncCheckpoint,
  SyncRunStatus,
} from '@subscribernest/shared';
import { DataSource, EntityManager, QueryRunner } from 'typeorm';

/** What the sync needs of a connection and its run. */
export interface SyncTarget {
  connection: Pick<
    EspConnection,
    'id' | 'userId' | 'espType' | 'encryptedApiKey' | 'publicationId' | 'status' | 'syncCheckpoint'
  >;
  run: { id: string; status: SyncRunStatus };
}

/** One subscriber row ready to store: email already encrypted, hashed and masked. */
export interface SubscriberRow {
  externalId: string;
  emailEncrypted: string;
  emailHmac: string;
  emailMasked: string;
  status: SubscriberStatus;
  firstName: string | null;
  lastName: string | null;
  subscribedAt: Date | null;
  unsubscribedAt: Date | null;
  metadata: Record<string, unknown>;
}

export interface PageResult {
  created: number;
  updated: number;
}

export interface SyncTotals {
  subscriberCount: number;
  removed: number;
}

/** A per-connection advisory lock held on its own connection until released. */
export interface ConnectionLock {
  release(): Promise<void>;
}

interface ConnectionRow {
  id: string;
  user_id: string;
  esp_type: EspConnection['espType'];
  encrypted_api_key: string;
  publication_id: string;
  status: EspConnection['status'];
  sync_checkpoint: SyncCheckpoint | null;
}

/** The queries of SubscriberSyncService. */
@Injectable()
export class SubscriberSyncRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * `pg_try_advisory_lock(hashtext(connectionId))` on a dedicated connection held until
   * `release()`: at most one sync per ESP connection across every worker. `null` when taken.
   */
  async tryLockConnection(connectionId: string): Promise<ConnectionLock | null> {
    const runner: QueryRunner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const rows: { locked: boolean }[] = await runner.query(
        `SELECT pg_try_advisory_lock(hashtext($1)) AS locked`,
        [connectionId],
      );
      const [row] = rows;
      if (!row?.locked) {
        await runner.release();
        return null;
      }
    } catch (error) {
      await runner.release();
      throw error;
    }
    return {
      release: async () => {
        try {
          await runner.query(`SELECT pg_advisory_unlock(hashtext($1))`, [connectionId]);
        } finally {
          await runner.release();
        }
      },
    };
  }

  async findTarget(connectionId: string, runId: string): Promise<SyncTarget | null> {
    const [connection] = await this.dataSource.query<ConnectionRow[]>(
      `SELECT id, user_id, esp_type, encrypted_api_key, publication_id, status, sync_checkpoint
         FROM esp_connections WHERE id = $1`,
      [connectionId],
    );
    const [run] = await this.dataSource.query<{ id: string; status: SyncRunStatus }[]>(
      `SELECT id, status FROM sync_runs WHERE id = $1 AND esp_connection_id = $2`,
      [runId, connectionId],
    );
    if (!connection || !run) return null;
    return {
      connection: {
        id: connection.id,
        userId: connection.user_id,
        espType: connection.esp_type,
        encryptedApiKey: connection.encrypted_api_key,
        publicationId: connection.publication_id,
        status: connection.status,
        syncCheckpoint: connection.sync_checkpoint,
      },
      run,
    };
  }

  /** The run is running (first start keeps its started_at); the connection stays `syncing`. */
  async markRunning(connectionId: string, runId: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query(
        `UPDATE sync_runs SET status = 'running', started_at = COALESCE(started_at, now()),
                error_message = NULL
          WHERE id = $1`,
        [runId],
      );
      await manager.query(
        `UPDATE esp_connections SET sync_status = 'syncing', updated_at = now() WHERE id = $1`,
        [connectionId],
      );
    });
  }

  /**
   * One page, in one transaction: the upsert (one statement; unchanged rows are not rewritten),
   * the seen ids, the run's counters and the connection's checkpoint.
   */
  async storePage(
    connectionId: string,
    runId: string,
    rows: SubscriberRow[],
    checkpoint: SyncCheckpoint,
  ): Promise<PageResult> {
    return this.dataSource.transaction(async (manager) => {
      const result = await this.upsert(manager, connectionId, rows);
      if (rows.length > 0) {
        await manager.query(
          `INSERT INTO sync_seen_subscribers (sync_run_id, external_id)
           SELECT $1, unnest($2::varchar[])
           ON CONFLICT DO NOTHING`,
          [runId, rows.map((row) => row.externalId)],
        );
      }
      await manager.query(
        `UPDATE sync_runs SET created_count = created_count + $2, updated_count = updated_count + $3
          WHERE id = $1`,
        [runId, result.created, result.updated],
      );
      await manager.query(`UPDATE esp_connections SET sync_checkpoint = $2 WHERE id = $1`, [
        connectionId,
        JSON.stringify(checkpoint),
      ]);
      return result;
    });
  }

  private async upsert(
    manager: EntityManager,
    connectionId: string,
    rows: SubscriberRow[],
  ): Promise<PageResult> {
    if (rows.length === 0) return { created: 0, updated: 0 };
    const returned = await manager.query<{ inserted: boolean }[]>(
      `INSERT INTO subscribers AS s (
         esp_connection_id, external_id, email_encrypted, email_hmac, email_masked, status,
         first_name, last_name, subscribed_at, unsubscribed_at, metadata)
       SELECT $1, t.external_id, t.email_encrypted, t.email_hmac, t.email_masked, t.status,
              t.first_name, t.last_name, t.subscribed_at, t.unsubscribed_at, t.metadata
         FROM unnest($2::varchar[], $3::text[], $4::varchar[], $5::varchar[], $6::varchar[],
                     $7::varchar[], $8::varchar[], $9::timestamptz[], $10::timestamptz[],
                     $11::jsonb[])
           AS t(external_id, email_encrypted, email_hmac, email_masked, status, first_name,
                last_name, subscribed_at, unsubscribed_at, metadata)
       ON CONFLICT (esp_connection_id, external_id) DO UPDATE SET
         email_encrypted = EXCLUDED.email_encrypted,
         email_hmac = EXCLUDED.email_hmac,
         email_masked = EXCLUDED.email_masked,
         status = EXCLUDED.status,
         first_name = EXCLUDED.first_name,
         last_name = EXCLUDED.last_name,
         subscribed_at = EXCLUDED.subscribed_at,
         unsubscribed_at = EXCLUDED.unsubscribed_at,
         metadata = EXCLUDED.metadata,
         updated_at = now()
       WHERE (s.status, s.first_name, s.last_name, s.subscribed_at, s.unsubscribed_at,
              s.email_hmac, s.metadata)
         IS DISTINCT FROM (EXCLUDED.status, EXCLUDED.first_name, EXCLUDED.last_name,
              EXCLUDED.subscribed_at, EXCLUDED.unsubscribed_at, EXCLUDED.email_hmac,
              EXCLUDED.metadata)
       RETURNING (xmax = 0) AS inserted`,
      [
        connectionId,
        rows.map((row) => row.externalId),
        rows.map((row) => row.emailEncrypted),
        rows.map((row) => row.emailHmac),
        rows.map((row) => row.emailMasked),
        rows.map((row) => row.status),
        rows.map((row) => row.firstName),
        rows.map((row) => row.lastName),
        rows.map((row) => row.subscribedAt?.toISOString() ?? null),
        rows.map((row) => row.unsubscribedAt?.toISOString() ?? null),
        rows.map((row) => JSON.stringify(row.metadata ?? {})),
      ],
    );
    const created = returned.filter((row) => row.inserted).length;
    return { created, updated: returned.length - created };
  }

  /**
   * The end of a complete pass, in one transaction: delete the connection's subscribers this run
   * did not see (ghosts) and the run's seen rows, mark the run `success`, the connection `synced`,
   * and upsert today's (UTC) subscriber-count snapshot of the user.
   */
  async finish(connectionId: string, userId: string, runId: string): Promise<SyncTotals> {
    return this.dataSource.transaction(async (manager) => {
      const [, removed] = await manager.query<[unknown, number]>(
        `DELETE FROM subscribers s
          WHERE s.esp_connection_id = $1
            AND NOT EXISTS (SELECT 1 FROM sync_seen_subscribers seen
                             WHERE seen.sync_run_id = $2 AND seen.external_id = s.external_id)`,
        [connectionId, runId],
      );
      await manager.query(`DELETE FROM sync_seen_subscribers WHERE sync_run_id = $1`, [runId]);
      const [{ count }] = await manager.query<{ count: number }[]>(
        `SELECT count(*)::int AS count FROM subscribers WHERE esp_connection_id = $1`,
        [connectionId],
      );
      await manager.query(
        `UPDATE sync_runs SET status = 'success', subscriber_count = $2, removed_count = $3,
                error_message = NULL, completed_at = now()
          WHERE id = $1`,
        [runId, count, removed],
      );
      await manager.query(
        `UPDATE esp_connections SET sync_status = 'synced', last_synced_at = now(),
                sync_checkpoint = NULL, updated_at = now()
          WHERE id = $1`,
        [connectionId],
      );
      await manager.query(
        `INSERT INTO subscriber_count_snapshots (user_id, day, subscriber_count)
         SELECT $1, (now() AT TIME ZONE 'UTC')::date, count(*)::int
           FROM subscribers s JOIN esp_connections c ON c.id = s.esp_connection_id
          WHERE c.user_id = $1
         ON CONFLICT (user_id, day) DO UPDATE
           SET subscriber_count = EXCLUDED.subscriber_count, updated_at = now()`,
        [userId],
      );
      return { subscriberCount: count, removed };
    });
  }

  /**
   * The saved cursor cannot be used: the run starts its pass over. Clears the checkpoint and the
   * run's seen ids (the new pass sees every subscriber again), in one transaction. The run's
   * created/updated counters stay: they count what this run changed.
   */
  async restartPass(connectionId: string, runId: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query(`DELETE FROM sync_seen_subscribers WHERE sync_run_id = $1`, [runId]);
      await manager.query(
        `UPDATE esp_connections SET sync_checkpoint = NULL, updated_at = now() WHERE id = $1`,
        [connectionId],
      );
    });
  }

  /** The run failed for good: it and the connection's sync state say so (and nothing else). */
  async markFailed(
    connectionId: string,
    runId: string,
    message: string,
    options: { invalidCredentials?: boolean } = {},
  ): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query(
        `UPDATE sync_runs SET status = 'failed', error_message = $2, completed_at = now()
          WHERE id = $1 AND status IN ('queued', 'running')`,
        [runId, message],
      );
      await manager.query(`DELETE FROM sync_seen_subscribers WHERE sync_run_id = $1`, [runId]);
      await manager.query(
        `UPDATE esp_connections
            SET sync_status = 'error', sync_checkpoint = NULL, updated_at = now(),
                status = CASE WHEN $2::boolean THEN 'invalid' ELSE status END
          WHERE id = $1`,
        [connectionId, options.invalidCredentials === true],
      );
    });
  }

  async runCounts(runId: string): Promise<{ created: number; updated: number }> {
    const [row] = await this.dataSource.query<{ created: number; updated: number }[]>(
      `SELECT created_count AS created, updated_count AS updated FROM sync_runs WHERE id = $1`,
      [runId],
    );
    return row ?? { created: 0, updated: 0 };
  }
}
