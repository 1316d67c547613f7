import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 12, Stripe: what the monthly billing reported to Stripe's meter and what the webhook
 * told us back.
 *
 * - `billing_periods`: `not_invoiced` (closed on a server without Stripe, or for a user who never
 *   subscribed) and `reported` (the month's usage was accepted by the meter; the invoice is
 *   Stripe's to raise) join the statuses; the meter event's identifier, value and time are kept,
 *   and `invoice_event_at` (the `created` time of the last invoice event applied) lets an older
 *   webhook event lose against a newer one.
 * - `billing_accounts`: `subscription_event_at` does the same for subscription events, and
 *   `cancel_at_period_end` is shown to the owner.
 * - `stripe_webhook_events`: one row per Stripe event id applied, so a replayed delivery changes
 *   nothing twice. Ids, types and times only: nothing that names a person.
 */
export class AddStripeBilling1796500000000 implements MigrationInterface {
  name = 'AddStripeBilling1796500000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "billing_periods" DROP CONSTRAINT "billing_periods_status_check"`,
    );
    await queryRunner.query(`
      ALTER TABLE "billing_periods" ADD CONSTRAINT "billing_periods_status_check"
        CHECK ("status" IN ('pending', 'not_invoiced', 'reported', 'invoiced', 'paid', 'failed',
                            'skipped'))`);
    await queryRunner.query(`
      ALTER TABLE "billing_periods"
        ADD "meter_event_identifier" character varying(100),
        ADD "reported_value" integer,
        ADD "reported_at" TIMESTAMP WITH TIME ZONE,
        ADD "invoice_event_at" TIMESTAMP WITH TIME ZONE`);
    // The webhook finds a period by its invoice.
    await queryRunner.query(`
      CREATE INDEX "billing_periods_stripe_invoice_id_idx"
        ON "billing_periods" ("stripe_invoice_id") WHERE "stripe_invoice_id" IS NOT NULL`);

    await queryRunner.query(`
      ALTER TABLE "billing_accounts"
        ADD "cancel_at_period_end" boolean NOT NULL DEFAULT false,
        ADD "subscription_event_at" TIMESTAMP WITH TIME ZONE`);

    await queryRunner.query(`
      CREATE TABLE "stripe_webhook_events" (
        "id" character varying(255) NOT NULL,
        "type" character varying(100) NOT NULL,
        "stripe_created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "outcome" character varying(32) NOT NULL,
        "received_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "stripe_webhook_events_pkey" PRIMARY KEY ("id")
      )`);
    // The data-retention cron prunes old rows by this.
    await queryRunner.query(`
      CREATE INDEX "stripe_webhook_events_received_at_idx"
        ON "stripe_webhook_events" ("received_at")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "stripe_webhook_events"`);
    await queryRunner.query(`
      ALTER TABLE "billing_accounts"
        DROP COLUMN "subscription_event_at",
        DROP COLUMN "cancel_at_period_end"`);
    await queryRunner.query(`DROP INDEX "billing_periods_stripe_invoice_id_idx"`);
    await queryRunner.query(`
      ALTER TABLE "billing_periods"
        DROP COLUMN "invoice_event_at",
        DROP COLUMN "reported_at",
        DROP COLUMN "reported_value",
        DROP COLUMN "meter_event_identifier"`);
    await queryRunner.query(
      `ALTER TABLE "billing_periods" DROP CONSTRAINT "billing_periods_status_check"`,
    );
    await queryRunner.query(
      `UPDATE "billing_periods" SET "status" = 'pending'
        WHERE "status" IN ('not_invoiced', 'reported')`,
    );
    await queryRunner.query(`
      ALTER TABLE "billing_periods" ADD CONSTRAINT "billing_periods_status_check"
        CHECK ("status" IN ('pending', 'invoiced', 'paid', 'failed', 'skipped'))`);
  }
}
