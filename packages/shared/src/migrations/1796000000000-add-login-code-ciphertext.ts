import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 11: the sign-in email job carried the code (encrypted) in its payload, so anyone who could
 * read or add jobs in Redis could mail a user's code anywhere. The code now waits in Postgres,
 * encrypted next to its verification HMAC, and the job carries `loginCodeId` only. The column is
 * cleared once the code is used, locked, superseded or expired. Codes issued before this
 * migration have none: their jobs are refused (the user asks for a new code).
 */
export class AddLoginCodeCiphertext1796000000000 implements MigrationInterface {
  name = 'AddLoginCodeCiphertext1796000000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "login_codes" ADD "code_encrypted" text`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "login_codes" DROP COLUMN "code_encrypted"`);
  }
}
