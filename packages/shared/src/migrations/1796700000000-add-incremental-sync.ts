import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 13: incremental syncs. A run records whether it fetched the whole list or only what
 * changed since a watermark (`mode`, `changed_since`); a connection keeps the ESP's clock at the
 * start of its last complete pass (`sync_watermark`, what the next incremental pass asks from)
 * and when its last complete full pass ended (`last_full_sync_at`, for the periodic full pass
 * that removes subscribers gone from the ESP).
 */
export class AddIncrementalSync1796700000000 implements MigrationInterface {
  name = 'AddIncrementalSync1796700000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE "sync_runs"
        ADD "mode" character varying(16),
        ADD "changed_since" TIMESTAMP WITH TIME ZONE,
        ADD CONSTRAINT "sync_runs_mode_check" CHECK ("mode" IN ('full', 'incremental'))`);
    await queryRunner.query(`
      ALTER TABLE "esp_connections"
        ADD "sync_watermark" TIMESTAMP WITH TIME ZONE,
        ADD "last_full_sync_at" TIMESTAMP WITH TIME ZONE`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE "esp_connections" DROP COLUMN "last_full_sync_at", DROP COLUMN "sync_watermark"`);
    await queryRunner.query(`
      ALTER TABLE "sync_runs"
        DROP CONSTRAINT "sync_runs_mode_check", DROP COLUMN "changed_since", DROP COLUMN "mode"`);
  }
}
