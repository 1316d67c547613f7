import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { SyncTrigger } from '@subscribernest/shared';
import { DataSource } from 'typeorm';

/** A connection's unfinished sync run, as the midnight fan-out enqueues it. */
export interface UnfinishedSyncRun {
  syncRunId: string;
  espConnectionId: string;
  trigger: SyncTrigger;
  /** True when this page created the run; false when a sync was already queued or running. */
  created: boolean;
}

export interface ScheduledRunsPage {
  /** Active connections in the page (fewer than the limit: it was the last page). */
  connections: number;
  /** Keyset position of the next page; null when the page was empty. */
  lastConnectionId: string | null;
  runs: UnfinishedSyncRun[];
}

/** Below every uuid: the keyset position before the first page. */
const FIRST_ID = '00000000-0000-0000-0000-000000000000';

/** The queries of the midnight sync fan-out on `esp_connections` and `sync_runs`. */
@Injectable()
export class MidnightSyncRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * In one transaction, for the next `limit` active connections after `afterId` (in id order, so
   * each page costs the same however far the fan-out is): creates a `scheduled` sync run for each
   * connection that has no unfinished one, marks those connections `syncing`, and returns every
   * connection's unfinished run, created now or already there. `sync_runs_one_unfinished_per_
   * connection_key` decides a race with a manual trigger: whichever insert comes second finds the
   * first. `FOR KEY SHARE` keeps the page's connections from being deleted until the runs exist.
   */
  createScheduledRuns(afterId: string | null, limit: number): Promise<ScheduledRunsPage> {
    return this.dataSource.transaction(async (manager) => {
      const page = await manager.query<{ id: string; user_id: string }[]>(
        `SELECT id, user_id FROM esp_connections
          WHERE status = 'active' AND id > $1
          ORDER BY id
          LIMIT $2
          FOR KEY SHARE`,
        [afterId ?? FIRST_ID, limit],
      );
      if (page.length === 0) return { connections: 0, lastConnectionId: null, runs: [] };

      // One statement for the page. Its snapshot predates the insert, so the second SELECT sees
      // exactly the runs that were already unfinished: the ones this page skips.
      const rows = await manager.query<
        { id: string; esp_connection_id: string; trigger: SyncTrigger; created: boolean }[]
      >(
        `WITH page AS (
           SELECT * FROM unnest($1::uuid[], $2::uuid[]) AS p(id, user_id)
         ), created AS (
           INSERT INTO sync_runs (esp_connection_id, user_id, trigger, status)
           SELECT id, user_id, 'scheduled', 'queued' FROM page
           ON CONFLICT (esp_connection_id) WHERE status IN ('queued', 'running') DO NOTHING
           RETURNING id, esp_connection_id, trigger
         ), marked AS (
           UPDATE esp_connections c SET sync_status = 'syncing', updated_at = now()
             FROM created WHERE c.id = created.esp_connection_id
         )
         SELECT id, esp_connection_id, trigger, true AS created FROM created
         UNION ALL
         SELECT r.id, r.esp_connection_id, r.trigger, false AS created
           FROM sync_runs r JOIN page ON r.esp_connection_id = page.id
          WHERE r.status IN ('queued', 'running')`,
        [page.map((row) => row.id), page.map((row) => row.user_id)],
      );
      return {
        connections: page.length,
        lastConnectionId: page[page.length - 1].id,
        runs: rows.map((row) => ({
          syncRunId: row.id,
          espConnectionId: row.esp_connection_id,
          trigger: row.trigger,
          created: row.created,
        })),
      };
    });
  }

  /**
   * Undoes runs created for jobs that could not be enqueued (Redis failed): the runs are `failed`
   * with the reason and their connections leave `syncing`, so no connection stays stuck in a sync
   * that will never run. A run a worker already started is left alone.
   */
  async failUnqueuedRuns(syncRunIds: string[], reason: string): Promise<void> {
    if (syncRunIds.length === 0) return;
    await this.dataSource.query(
      `WITH failed AS (
         UPDATE sync_runs SET status = 'failed', error_message = $2, completed_at = now()
          WHERE id = ANY($1::uuid[]) AND status = 'queued'
          RETURNING esp_connection_id
       )
       UPDATE esp_connections c SET sync_status = 'error', updated_at = now()
         FROM failed WHERE c.id = failed.esp_connection_id AND c.sync_status = 'syncing'`,
      [syncRunIds, reason],
    );
  }
}
