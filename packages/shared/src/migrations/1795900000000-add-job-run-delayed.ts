import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The `delayed` job state (issue 10): a job that put itself off (a sync waiting out an ESP 429)
 * was left `active` in the audit. `job_runs.delayed_until` says when it runs again.
 */
export class AddJobRunDelayed1795900000000 implements MigrationInterface {
  name = 'AddJobRunDelayed1795900000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "job_runs" DROP CONSTRAINT "job_runs_status_check"`);
    await queryRunner.query(
      `ALTER TABLE "job_runs" ADD CONSTRAINT "job_runs_status_check"
        CHECK ("status" IN ('queued', 'active', 'delayed', 'completed', 'failed', 'dead'))`,
    );
    await queryRunner.query(`ALTER TABLE "job_runs" ADD "delayed_until" TIMESTAMP WITH TIME ZONE`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "job_runs" DROP COLUMN "delayed_until"`);
    await queryRunner.query(`UPDATE "job_runs" SET "status" = 'queued' WHERE "status" = 'delayed'`);
    await queryRunner.query(`ALTER TABLE "job_runs" DROP CONSTRAINT "job_runs_status_check"`);
    await queryRunner.query(
      `ALTER TABLE "job_runs" ADD CONSTRAINT "job_runs_status_check"
        CHECK ("status" IN ('queued', 'active', 'completed', 'failed', 'dead'))`,
    );
  }
}
