import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 13: one odd row never fails a sync. A subscriber the ESP sent that cannot be stored (an
 * address that is not one, an id we could not find it by again, a status we do not keep) is
 * skipped and counted on its run, by reason, for the sync history.
 */
export class AddSyncRunSkippedRows1796600000000 implements MigrationInterface {
  name = 'AddSyncRunSkippedRows1796600000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE "sync_runs"
        ADD "skipped_count" integer NOT NULL DEFAULT 0,
        ADD "skip_reasons" jsonb NOT NULL DEFAULT '{}'`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE "sync_runs" DROP COLUMN "skip_reasons", DROP COLUMN "skipped_count"`);
  }
}
