import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 11: every action an admin takes through the api (retry a dead job, run a cron, re-run a
 * tick, open the queue board) leaves a row: who, what, on which target, when, and how it ended.
 * `admin_id` has no foreign key on purpose: the trail outlives the admin's account.
 */
export class CreateAdminActions1796100000000 implements MigrationInterface {
  name = 'CreateAdminActions1796100000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "admin_actions" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "admin_id" uuid NOT NULL,
        "action" character varying(64) NOT NULL,
        "target" character varying(128),
        "outcome" character varying(16) NOT NULL DEFAULT 'pending',
        "status_code" integer,
        "detail" character varying(500),
        "request_id" character varying(128),
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "finished_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "admin_actions_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "admin_actions_outcome_check"
          CHECK ("outcome" IN ('pending', 'succeeded', 'failed'))
      )`,
    );
    await queryRunner.query(
      `CREATE INDEX "admin_actions_created_at_idx" ON "admin_actions" ("created_at" DESC, "id" DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX "admin_actions_admin_id_created_at_idx"
         ON "admin_actions" ("admin_id", "created_at" DESC)`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "admin_actions"`);
  }
}
