import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `billing_periods.meter_event_at`: the time a month's Stripe meter event is dated, fixed before
 * the event is first sent. A retried close-period job sends Stripe the same request under the
 * same idempotency key (Stripe refuses a key reused with other parameters), and once it is set
 * the month's count and amount stop following later snapshots: what was sent is what is billed.
 * Nullable, no default: nothing is rewritten, and the previous version ignores the column.
 */
export class AddMeterEventAt1797400000000 implements MigrationInterface {
  name = 'AddMeterEventAt1797400000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "billing_periods" ADD "meter_event_at" TIMESTAMP WITH TIME ZONE`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "billing_periods" DROP COLUMN "meter_event_at"`);
  }
}
