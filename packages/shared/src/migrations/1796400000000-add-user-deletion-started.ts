import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 12: once the worker has begun deleting an account it must finish, even across a crash;
 * an owner cancelling in between would otherwise leave a half-deleted account behind.
 * `deletion_started_at` is set by the deletion under the user's row lock; from then on the api
 * answers a cancel with 409.
 */
export class AddUserDeletionStarted1796400000000 implements MigrationInterface {
  name = 'AddUserDeletionStarted1796400000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "users" ADD "deletion_started_at" TIMESTAMP WITH TIME ZONE`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "deletion_started_at"`);
  }
}
