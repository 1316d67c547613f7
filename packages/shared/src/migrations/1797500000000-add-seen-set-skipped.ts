import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `sync_runs.seen_set_skipped`: the current pass began on a connection that stored no subscriber,
 * so it keeps no seen set. Everything stored when it ends was stored by it (another run's pass
 * discards this run's checkpoint, and a pass finishes only from its own), so there is no ghost to
 * find; the seen-set insert was a third of a first sync's database time. Defaults to false, the
 * previous behaviour, for every existing run.
 */
export class AddSeenSetSkipped1797500000000 implements MigrationInterface {
  name = 'AddSeenSetSkipped1797500000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "sync_runs" ADD "seen_set_skipped" boolean NOT NULL DEFAULT false`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sync_runs" DROP COLUMN "seen_set_skipped"`);
  }
}
