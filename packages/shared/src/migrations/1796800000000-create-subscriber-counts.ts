import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 16: list totals without a `count(*)` per request. `subscriber_counts` holds, per
 * (connection, status), how many `subscribers` rows there are, kept exact by Postgres in the
 * same transaction as every change, whoever makes it (the sync's upserts and ghost removal, the
 * api's batched connection deletion, the account deletion, a cascade, a hand-written fix):
 *
 * - three statement-level AFTER triggers with transition tables (one per event: a trigger with
 *   transition tables takes a single event), each aggregating its statement's rows per
 *   (connection, status) into one small upsert, so a 1,000-row page costs one extra statement
 *   inside the database, not one per row. An `INSERT … ON CONFLICT DO UPDATE` fires both the
 *   insert trigger (the rows it inserted) and the update trigger (the rows it updated; an
 *   unchanged row skipped by the `WHERE` is in neither);
 * - an update counts `+1` for each new (connection, status) and `-1` for each old one; pairs that
 *   net to 0 (no status change) are not written at all, so a re-sync that changes names or
 *   metadata only, or nothing, touches no count row;
 * - counts rows are written in (connection, status) order, so two transactions touching the same
 *   counts rows (a statement spanning several connections, e.g. the account deletion's) lock them
 *   in one order and cannot deadlock on them; writers to different connections never share a row;
 * - deletions only ever update existing rows (never insert): when a connection is deleted, the
 *   cascade may remove its counts rows before or after its subscribers, and an insert would then
 *   fail the foreign key; an update of a row already gone does nothing, and the rows go with the
 *   connection either way;
 * - `TRUNCATE subscribers` (no row triggers fire) empties the counts too.
 *
 * The backfill counts the existing rows in the same transaction as the triggers' creation, under
 * a SHARE lock on `subscribers` (writers wait the few seconds it takes; readers do not), so no
 * change can fall between the two.
 */
export class CreateSubscriberCounts1796800000000 implements MigrationInterface {
  name = 'CreateSubscriberCounts1796800000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "subscriber_counts" (
        "esp_connection_id" uuid NOT NULL,
        "status" character varying(16) NOT NULL,
        "count" integer NOT NULL DEFAULT 0,
        CONSTRAINT "subscriber_counts_pkey" PRIMARY KEY ("esp_connection_id", "status"),
        CONSTRAINT "subscriber_counts_esp_connection_id_fkey" FOREIGN KEY ("esp_connection_id")
          REFERENCES "esp_connections"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);

    await queryRunner.query(`
      CREATE FUNCTION subscriber_counts_after_insert() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO subscriber_counts AS c (esp_connection_id, status, count)
        SELECT esp_connection_id, status, count(*)
          FROM new_rows
         GROUP BY esp_connection_id, status
         ORDER BY esp_connection_id, status
        ON CONFLICT (esp_connection_id, status) DO UPDATE SET count = c.count + EXCLUDED.count;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE FUNCTION subscriber_counts_after_update() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        -- Each updated row is once in old_rows and once in new_rows: the difference of the two
        -- tallies is the change, whatever changed. Most updates change no status: nothing left.
        INSERT INTO subscriber_counts AS c (esp_connection_id, status, count)
        SELECT esp_connection_id, status, sum(delta)
          FROM (SELECT esp_connection_id, status, 1 AS delta FROM new_rows
                UNION ALL
                SELECT esp_connection_id, status, -1 FROM old_rows) AS changes
         GROUP BY esp_connection_id, status
        HAVING sum(delta) <> 0
         ORDER BY esp_connection_id, status
        ON CONFLICT (esp_connection_id, status) DO UPDATE SET count = c.count + EXCLUDED.count;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE FUNCTION subscriber_counts_after_delete() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        -- Lock the rows in key order first (UPDATE … FROM takes them in join order).
        PERFORM 1
           FROM subscriber_counts c
          WHERE (c.esp_connection_id, c.status) IN (SELECT esp_connection_id, status FROM old_rows)
          ORDER BY c.esp_connection_id, c.status
            FOR UPDATE;
        UPDATE subscriber_counts c
           SET count = c.count - gone.n
          FROM (SELECT esp_connection_id, status, count(*) AS n
                  FROM old_rows GROUP BY esp_connection_id, status) AS gone
         WHERE c.esp_connection_id = gone.esp_connection_id AND c.status = gone.status;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE FUNCTION subscriber_counts_after_truncate() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM subscriber_counts;
        RETURN NULL;
      END $$`);

    await queryRunner.query(`LOCK TABLE "subscribers" IN SHARE MODE`);
    await queryRunner.query(`
      CREATE TRIGGER subscriber_counts_insert AFTER INSERT ON "subscribers"
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION subscriber_counts_after_insert()`);
    await queryRunner.query(`
      CREATE TRIGGER subscriber_counts_update AFTER UPDATE ON "subscribers"
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION subscriber_counts_after_update()`);
    await queryRunner.query(`
      CREATE TRIGGER subscriber_counts_delete AFTER DELETE ON "subscribers"
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION subscriber_counts_after_delete()`);
    await queryRunner.query(`
      CREATE TRIGGER subscriber_counts_truncate AFTER TRUNCATE ON "subscribers"
        FOR EACH STATEMENT EXECUTE FUNCTION subscriber_counts_after_truncate()`);
    await queryRunner.query(`
      INSERT INTO subscriber_counts (esp_connection_id, status, count)
      SELECT esp_connection_id, status, count(*)
        FROM subscribers
       GROUP BY esp_connection_id, status`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER subscriber_counts_truncate ON "subscribers"`);
    await queryRunner.query(`DROP TRIGGER subscriber_counts_delete ON "subscribers"`);
    await queryRunner.query(`DROP TRIGGER subscriber_counts_update ON "subscribers"`);
    await queryRunner.query(`DROP TRIGGER subscriber_counts_insert ON "subscribers"`);
    await queryRunner.query(`DROP FUNCTION subscriber_counts_after_truncate()`);
    await queryRunner.query(`DROP FUNCTION subscriber_counts_after_delete()`);
    await queryRunner.query(`DROP FUNCTION subscriber_counts_after_update()`);
    await queryRunner.query(`DROP FUNCTION subscriber_counts_after_insert()`);
    await queryRunner.query(`DROP TABLE "subscriber_counts"`);
  }
}
