import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 16: the seen ids of a full pass cost WAL on every insert and on the delete at its end
 * (~130 MB at 1M), for rows that live only as long as the run. `sync_seen_subscribers` becomes
 * UNLOGGED: no WAL at all. What that gives up, Postgres's crash recovery (and a failover)
 * empties the table; `sync_runs.seen_count` counts the seen rows in the same (logged)
 * transactions that insert them, so a run whose seen set came back short is detected before it
 * removes anything, and its pass starts over instead (SyncRunLifecycle.finish).
 *
 * Safe during a rollout: the previous version inserts without counting (a count below the rows
 * kept is never taken for a loss).
 */
export class UnloggedSyncSeenSet1796900000000 implements MigrationInterface {
  name = 'UnloggedSyncSeenSet1796900000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sync_runs" ADD "seen_count" integer NOT NULL DEFAULT 0`);
    await queryRunner.query(`ALTER TABLE "sync_seen_subscribers" SET UNLOGGED`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sync_seen_subscribers" SET LOGGED`);
    await queryRunner.query(`ALTER TABLE "sync_runs" DROP COLUMN "seen_count"`);
  }
}
