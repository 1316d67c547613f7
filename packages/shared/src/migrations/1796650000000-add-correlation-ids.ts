import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 15: one id follows a sync from the request to the rows. A run keeps the id of the api
 * request (or the cron tick) that caused it, and every job's audit row the id its payload
 * carried, so sync-history and GET /jobs/:id show what to grep the logs for.
 */
export class AddCorrelationIds1796650000000 implements MigrationInterface {
  name = 'AddCorrelationIds1796650000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sync_runs" ADD "correlation_id" character varying(128)`);
    await queryRunner.query(`ALTER TABLE "job_runs" ADD "correlation_id" character varying(128)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "job_runs" DROP COLUMN "correlation_id"`);
    await queryRunner.query(`ALTER TABLE "sync_runs" DROP COLUMN "correlation_id"`);
  }
}
