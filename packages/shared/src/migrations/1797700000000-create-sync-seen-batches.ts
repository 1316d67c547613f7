import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 16: a full pass's seen set, one row per stored batch (the batch's external ids as one
 * JSON array) instead of one row per subscriber. Measured on 200,000 ids in 1,000-id batches, the
 * per-subscriber rows cost Postgres 1.9 s to insert (a primary-key entry and a foreign-key check
 * each) and as long again to delete at the end of the run, about a third of a re-sync with nothing
 * changed; the batch rows cost 200 inserts, and the end's anti-join (a hash of the expanded
 * arrays) takes the same 0.3 s as before.
 *
 * UNLOGGED, as `sync_seen_subscribers` became (1796900000000): crash recovery empties it, and
 * `sync_runs.seen_count`, counted in the logged transaction that inserts each batch, tells
 * SyncRunLifecycle.finish the set came back short.
 *
 * `sync_seen_subscribers` stays for a rollout: a worker of the previous version resuming a pass
 * keeps its ids there and counts them in `seen_count`, so whichever version ends the pass finds
 * its own set short and goes over the list again rather than removing what it did not see.
 */
export class CreateSyncSeenBatches1797700000000 implements MigrationInterface {
  name = 'CreateSyncSeenBatches1797700000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE UNLOGGED TABLE "sync_seen_batches" (
        "id" BIGSERIAL NOT NULL,
        "sync_run_id" uuid NOT NULL,
        "external_ids" json NOT NULL,
        "id_count" integer NOT NULL,
        CONSTRAINT "sync_seen_batches_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "sync_seen_batches_sync_run_id_fkey" FOREIGN KEY ("sync_run_id")
          REFERENCES "sync_runs" ("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await queryRunner.query(
      `CREATE INDEX "sync_seen_batches_sync_run_id_idx" ON "sync_seen_batches" ("sync_run_id")`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "sync_seen_batches"`);
  }
}
