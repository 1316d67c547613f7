import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Leased cron claims (issue 10).
 *
 * - `cron_runs.lease_token`: the token of the attempt that owns a `running` tick; its heartbeat,
 *   completion and failure name it, so an attempt whose lease was taken over writes nothing.
 * - `cron_runs.lease_expires_at`: the owner renews it while the tick runs; a `running` tick past it
 *   (its worker died mid-fan-out) is claimed again by the next worker that checks.
 * - `cron_runs.attempts`: how many attempts claimed the tick; a `failed` tick is re-run until
 *   CRON_MAX_ATTEMPTS, then waits for an admin.
 *
 * Rows already `running` get no lease, which the claim treats as expired: their worker is gone
 * (the previous release never renewed anything), so the next check re-runs them.
 */
export class AddCronRunLeases1795800000000 implements MigrationInterface {
  name = 'AddCronRunLeases1795800000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "cron_runs" ADD "lease_token" uuid`);
    await queryRunner.query(
      `ALTER TABLE "cron_runs" ADD "lease_expires_at" TIMESTAMP WITH TIME ZONE`,
    );
    await queryRunner.query(`ALTER TABLE "cron_runs" ADD "attempts" integer NOT NULL DEFAULT 1`);
    // The recovery check's scan: ticks that may need another attempt.
    await queryRunner.query(
      `CREATE INDEX "cron_runs_unfinished_idx" ON "cron_runs" ("tick")
        WHERE "status" IN ('running', 'failed')`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "cron_runs_unfinished_idx"`);
    await queryRunner.query(`ALTER TABLE "cron_runs" DROP COLUMN "attempts"`);
    await queryRunner.query(`ALTER TABLE "cron_runs" DROP COLUMN "lease_expires_at"`);
    await queryRunner.query(`ALTER TABLE "cron_runs" DROP COLUMN "lease_token"`);
  }
}
