import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Fenced sync passes (issue 10).
 *
 * - `sync_runs.pass_token`: the fencing token of the pass that owns the run; every page write and
 *   the finish name it in the same statement, so a pass that lost its job can never write again.
 * - `sync_runs.passes`: how many passes have started (one per BullMQ start of the job).
 * - `sync_runs.heartbeat_at`: the owning pass's last write; the reaper fails runs nothing drives.
 * - `sync_runs.rate_limited_ms`: total time the run waited on ESP 429s (bounded by config).
 */
export class AddSyncRunPasses1795700000000 implements MigrationInterface {
  name = 'AddSyncRunPasses1795700000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sync_runs" ADD "pass_token" uuid`);
    await queryRunner.query(`ALTER TABLE "sync_runs" ADD "passes" integer NOT NULL DEFAULT 0`);
    await queryRunner.query(`ALTER TABLE "sync_runs" ADD "heartbeat_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(
      `ALTER TABLE "sync_runs" ADD "rate_limited_ms" bigint NOT NULL DEFAULT 0`,
    );
    // The reaper's scan: unfinished runs only.
    await queryRunner.query(
      `CREATE INDEX "sync_runs_unfinished_idx" ON "sync_runs" ("created_at")
        WHERE "status" IN ('queued', 'running')`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "sync_runs_unfinished_idx"`);
    await queryRunner.query(`ALTER TABLE "sync_runs" DROP COLUMN "rate_limited_ms"`);
    await queryRunner.query(`ALTER TABLE "sync_runs" DROP COLUMN "heartbeat_at"`);
    await queryRunner.query(`ALTER TABLE "sync_runs" DROP COLUMN "passes"`);
    await queryRunner.query(`ALTER TABLE "sync_runs" DROP COLUMN "pass_token"`);
  }
}
