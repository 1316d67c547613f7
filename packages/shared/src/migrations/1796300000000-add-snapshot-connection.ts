import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 12: a month is billed as the sum over the user's connections of each connection's highest
 * stored count that month, so snapshots are kept per connection and day (they were one total per
 * user and day). Rows written before this have no connection: billing counts them as one more
 * "connection", the user's old daily total. No foreign key: a connection deleted mid-month is still
 * billed for the part of the month it existed.
 */
export class AddSnapshotConnection1796300000000 implements MigrationInterface {
  name = 'AddSnapshotConnection1796300000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "subscriber_count_snapshots" ADD "esp_connection_id" uuid`,
    );
    await queryRunner.query(`DROP INDEX "subscriber_count_snapshots_user_day_key"`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "subscriber_count_snapshots_user_connection_day_key"
         ON "subscriber_count_snapshots" ("user_id", "esp_connection_id", "day")`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    // Back to one row per user and day: the day's per-connection rows summed into one.
    await queryRunner.query(`DROP INDEX "subscriber_count_snapshots_user_connection_day_key"`);
    await queryRunner.query(
      `WITH totals AS (
         SELECT user_id, day, sum(subscriber_count)::int AS total, min(id::text)::uuid AS keep
           FROM subscriber_count_snapshots GROUP BY user_id, day
       ), updated AS (
         UPDATE subscriber_count_snapshots s SET subscriber_count = t.total
           FROM totals t WHERE s.id = t.keep
       )
       DELETE FROM subscriber_count_snapshots s USING totals t
        WHERE s.user_id = t.user_id AND s.day = t.day AND s.id <> t.keep`,
    );
    await queryRunner.query(
      `ALTER TABLE "subscriber_count_snapshots" DROP COLUMN "esp_connection_id"`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "subscriber_count_snapshots_user_day_key"
         ON "subscriber_count_snapshots" ("user_id", "day")`,
    );
  }
}
