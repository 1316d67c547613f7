import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 16, the midnight fan-out's write path, measured on one 1,000-connection page of its
 * statement (EXPLAIN ANALYZE, 100,000 connections):
 *
 * - `esp_connections` keeps 20% of each heap page free (fillfactor 80). Every sync updates its
 *   connection at least twice (`syncing` when it is queued, its outcome when it ends); on full
 *   pages those updates could not stay on the row's page, so each one also wrote every index of
 *   the table (five WAL records per row instead of one). The page's update went from 13 ms to
 *   3 ms. Pages already written get the room as their rows are next rewritten.
 * - Sync runs the database names get time-ordered ids (`uuid_v7()`, as subscribers do): each
 *   night's fan-out adds a run per connection, and their random ids dirtied a random leaf of the
 *   primary key per row. (A manual sync's run keeps the id the api gives it, for its event.)
 *
 * Neither changes what any query returns; the previous version writes no run id itself.
 */
export class FanOutWritePath1797600000000 implements MigrationInterface {
  name = 'FanOutWritePath1797600000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "esp_connections" SET (fillfactor = 80)`);
    await queryRunner.query(`ALTER TABLE "sync_runs" ALTER COLUMN "id" SET DEFAULT uuid_v7()`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "sync_runs" ALTER COLUMN "id" SET DEFAULT gen_random_uuid()`,
    );
    await queryRunner.query(`ALTER TABLE "esp_connections" RESET (fillfactor)`);
  }
}
