import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 16: `subscribers.content_hash`, 16 bytes over the fields a sync compares
 * (subscriberContentHash), so a sync tells which of a batch's subscribers changed by sending ids
 * and hashes, not every field. Nullable and without a default: adding it rewrites nothing, and
 * rows written before it get their hash at their next sync (a hash-only write, not counted as an
 * update). The previous version ignores the column, so it is safe during a rollout.
 */
export class AddSubscriberContentHash1797000000000 implements MigrationInterface {
  name = 'AddSubscriberContentHash1797000000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "subscribers" ADD "content_hash" bytea`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "subscribers" DROP COLUMN "content_hash"`);
  }
}
