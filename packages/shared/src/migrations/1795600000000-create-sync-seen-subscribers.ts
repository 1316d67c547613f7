import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `sync_seen_subscribers`: the external ids a sync run has seen at the ESP. A complete pass deletes
 * the connection's subscribers it did not see (ghosts) without rewriting unchanged rows to mark
 * them; the run's rows are deleted when it finishes (and with the run, by the cascade).
 */
export class CreateSyncSeenSubscribers1795600000000 implements MigrationInterface {
  name = 'CreateSyncSeenSubscribers1795600000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "sync_seen_subscribers" (
        "sync_run_id" uuid NOT NULL,
        "external_id" character varying(255) NOT NULL,
        CONSTRAINT "sync_seen_subscribers_pkey" PRIMARY KEY ("sync_run_id", "external_id"),
        CONSTRAINT "sync_seen_subscribers_sync_run_id_fkey" FOREIGN KEY ("sync_run_id")
          REFERENCES "sync_runs" ("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "sync_seen_subscribers"`);
  }
}
