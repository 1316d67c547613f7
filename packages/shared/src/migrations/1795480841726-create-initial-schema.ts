import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The initial schema (ARCHITECTURE §2). Enumerations are varchar + named CHECK constraints, so a
 * new value is a one-line migration rather than an enum-type rewrite. Every index below is
 * there for a query named in its comment; the entities declare the same set, and the schema
 * test fails if the two ever drift.
 */
export class CreateInitialSchema1795480841726 implements MigrationInterface {
  name = 'CreateInitialSchema1795480841726';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "users" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "email" character varying(320) NOT NULL,
        "role" character varying(16) NOT NULL DEFAULT 'user',
        "is_onboarded" boolean NOT NULL DEFAULT false,
        "delete_requested_at" TIMESTAMP WITH TIME ZONE,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "users_role_check" CHECK ("role" IN ('user', 'admin')),
        CONSTRAINT "users_pkey" PRIMARY KEY ("id")
      )`);
    // Sign-in looks users up by address whatever its case; one account per address.
    await queryRunner.query(
      `CREATE UNIQUE INDEX "users_email_lower_key" ON "users" (lower("email"))`,
    );

    await queryRunner.query(`
      CREATE TABLE "login_codes" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "email" character varying(320) NOT NULL,
        "code_hash" character varying(128) NOT NULL,
        "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "failed_attempts" integer NOT NULL DEFAULT '0',
        "consumed_at" TIMESTAMP WITH TIME ZONE,
        "requested_ip" character varying(64),
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "login_codes_pkey" PRIMARY KEY ("id")
      )`);
    // Verify-code reads the newest code for an address; rate limits count recent ones.
    await queryRunner.query(
      `CREATE INDEX "login_codes_email_created_at_idx" ON "login_codes" ("email", "created_at")`,
    );

    await queryRunner.query(`
      CREATE TABLE "sessions" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "user_id" uuid NOT NULL,
        "token_hash" character varying(128) NOT NULL,
        "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "revoked_at" TIMESTAMP WITH TIME ZONE,
        "ip" character varying(64),
        "user_agent" character varying(512),
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "sessions_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "sessions_user_id_fkey" FOREIGN KEY ("user_id")
          REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    // Every authenticated request: token hash → session.
    await queryRunner.query(
      `CREATE UNIQUE INDEX "sessions_token_hash_key" ON "sessions" ("token_hash")`,
    );
    // Revoking a user's sessions; cascading deletes.
    await queryRunner.query(`CREATE INDEX "sessions_user_id_idx" ON "sessions" ("user_id")`);

    await queryRunner.query(`
      CREATE TABLE "esp_connections" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "user_id" uuid NOT NULL,
        "esp_type" character varying(32) NOT NULL,
        "encrypted_api_key" text NOT NULL,
        "publication_id" character varying(255) NOT NULL,
        "publication_name" character varying(512),
        "status" character varying(16) NOT NULL DEFAULT 'active',
        "sync_status" character varying(16) NOT NULL DEFAULT 'idle',
        "last_validated_at" TIMESTAMP WITH TIME ZONE,
        "last_synced_at" TIMESTAMP WITH TIME ZONE,
        "sync_checkpoint" jsonb,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "esp_connections_esp_type_check" CHECK ("esp_type" IN ('beehiiv', 'kit', 'mailchimp')),
        CONSTRAINT "esp_connections_status_check" CHECK ("status" IN ('active', 'invalid', 'disconnected')),
        CONSTRAINT "esp_connections_sync_status_check"
          CHECK ("sync_status" IN ('idle', 'syncing', 'synced', 'error')),
        CONSTRAINT "esp_connections_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "esp_connections_user_id_fkey" FOREIGN KEY ("user_id")
          REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    // One connection per publication per user; user_id leads, so it also serves user listings.
    await queryRunner.query(`
      CREATE UNIQUE INDEX "esp_connections_user_publication_key"
        ON "esp_connections" ("user_id", "esp_type", "publication_id")`);
    // The midnight cron pages active connections by id; the partial index holds only those.
    await queryRunner.query(`
      CREATE INDEX "esp_connections_active_id_idx" ON "esp_connections" ("id")
        WHERE "status" = 'active'`);

    await queryRunner.query(`
      CREATE TABLE "subscribers" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "esp_connection_id" uuid NOT NULL,
        "external_id" character varying(255) NOT NULL,
        "email_encrypted" text NOT NULL,
        "email_hmac" character varying(64) NOT NULL,
        "email_masked" character varying(320) NOT NULL,
        "status" character varying(16) NOT NULL,
        "first_name" character varying(255),
        "last_name" character varying(255),
        "subscribed_at" TIMESTAMP WITH TIME ZONE,
        "unsubscribed_at" TIMESTAMP WITH TIME ZONE,
        "metadata" jsonb NOT NULL DEFAULT '{}'::jsonb,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "subscribers_status_check" CHECK ("status" IN ('active', 'unsubscribed', 'bounced')),
        CONSTRAINT "subscribers_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "subscribers_esp_connection_id_fkey" FOREIGN KEY ("esp_connection_id")
          REFERENCES "esp_connections"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    // The sync upsert: INSERT ... ON CONFLICT (esp_connection_id, external_id).
    await queryRunner.query(`
      CREATE UNIQUE INDEX "subscribers_connection_external_id_key"
        ON "subscribers" ("esp_connection_id", "external_id")`);
    // Keyset pages and exports over a connection's subscribers.
    await queryRunner.query(
      `CREATE INDEX "subscribers_connection_id_idx" ON "subscribers" ("esp_connection_id", "id")`,
    );
    // The same filtered by status, and per-status counts (subscriber-stats).
    await queryRunner.query(`
      CREATE INDEX "subscribers_connection_status_id_idx"
        ON "subscribers" ("esp_connection_id", "status", "id")`);
    // Lookups by address without decrypting.
    await queryRunner.query(`
      CREATE INDEX "subscribers_connection_email_hmac_idx"
        ON "subscribers" ("esp_connection_id", "email_hmac")`);

    await queryRunner.query(`
      CREATE TABLE "sync_runs" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "esp_connection_id" uuid NOT NULL,
        "user_id" uuid NOT NULL,
        "trigger" character varying(16) NOT NULL,
        "status" character varying(16) NOT NULL DEFAULT 'queued',
        "subscriber_count" integer,
        "created_count" integer NOT NULL DEFAULT '0',
        "updated_count" integer NOT NULL DEFAULT '0',
        "removed_count" integer NOT NULL DEFAULT '0',
        "error_message" text,
        "started_at" TIMESTAMP WITH TIME ZONE,
        "completed_at" TIMESTAMP WITH TIME ZONE,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "sync_runs_trigger_check" CHECK ("trigger" IN ('manual', 'scheduled')),
        CONSTRAINT "sync_runs_status_check" CHECK ("status" IN ('queued', 'running', 'success', 'failed')),
        CONSTRAINT "sync_runs_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "sync_runs_esp_connection_id_fkey" FOREIGN KEY ("esp_connection_id")
          REFERENCES "esp_connections"("id") ON DELETE CASCADE ON UPDATE NO ACTION,
        CONSTRAINT "sync_runs_user_id_fkey" FOREIGN KEY ("user_id")
          REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    // Sync history, newest first, per connection.
    await queryRunner.query(`
      CREATE INDEX "sync_runs_connection_created_at_idx"
        ON "sync_runs" ("esp_connection_id", "created_at")`);
    await queryRunner.query(`CREATE INDEX "sync_runs_user_id_idx" ON "sync_runs" ("user_id")`);
    // At most one queued or running sync per connection: a second trigger finds the first.
    await queryRunner.query(`
      CREATE UNIQUE INDEX "sync_runs_one_unfinished_per_connection_key"
        ON "sync_runs" ("esp_connection_id") WHERE "status" IN ('queued', 'running')`);

    await queryRunner.query(`
      CREATE TABLE "subscriber_count_snapshots" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "user_id" uuid NOT NULL,
        "day" date NOT NULL,
        "subscriber_count" integer NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "subscriber_count_snapshots_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "subscriber_count_snapshots_user_id_fkey" FOREIGN KEY ("user_id")
          REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    // Upsert per user per day; billing reads a user's month by range.
    await queryRunner.query(`
      CREATE UNIQUE INDEX "subscriber_count_snapshots_user_day_key"
        ON "subscriber_count_snapshots" ("user_id", "day")`);

    await queryRunner.query(`
      CREATE TABLE "billing_accounts" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "user_id" uuid NOT NULL,
        "stripe_customer_id" character varying(255),
        "stripe_subscription_id" character varying(255),
        "subscription_status" character varying(32),
        "current_period_end" TIMESTAMP WITH TIME ZONE,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "billing_accounts_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "billing_accounts_user_id_fkey" FOREIGN KEY ("user_id")
          REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "billing_accounts_user_id_key" ON "billing_accounts" ("user_id")`,
    );
    // Stripe webhooks name the customer.
    await queryRunner.query(`
      CREATE UNIQUE INDEX "billing_accounts_stripe_customer_id_key"
        ON "billing_accounts" ("stripe_customer_id")`);

    await queryRunner.query(`
      CREATE TABLE "billing_periods" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "user_id" uuid NOT NULL,
        "period_start" date NOT NULL,
        "period_end" date NOT NULL,
        "max_subscriber_count" integer NOT NULL DEFAULT '0',
        "amount_cents" integer NOT NULL DEFAULT '0',
        "currency" character varying(3) NOT NULL DEFAULT 'usd',
        "status" character varying(16) NOT NULL DEFAULT 'pending',
        "stripe_invoice_id" character varying(255),
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "billing_periods_status_check"
          CHECK ("status" IN ('pending', 'invoiced', 'paid', 'failed', 'skipped')),
        CONSTRAINT "billing_periods_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "billing_periods_user_id_fkey" FOREIGN KEY ("user_id")
          REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    // One period per user per month: a repeated billing run finds the row it wrote.
    await queryRunner.query(`
      CREATE UNIQUE INDEX "billing_periods_user_period_key"
        ON "billing_periods" ("user_id", "period_start")`);

    await queryRunner.query(`
      CREATE TABLE "job_runs" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "queue" character varying(64) NOT NULL,
        "name" character varying(64) NOT NULL,
        "job_id" character varying(255) NOT NULL,
        "user_id" uuid,
        "status" character varying(16) NOT NULL DEFAULT 'queued',
        "attempts" integer NOT NULL DEFAULT '0',
        "max_attempts" integer NOT NULL DEFAULT '1',
        "last_error" text,
        "started_at" TIMESTAMP WITH TIME ZONE,
        "finished_at" TIMESTAMP WITH TIME ZONE,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "job_runs_status_check"
          CHECK ("status" IN ('queued', 'active', 'completed', 'failed', 'dead')),
        CONSTRAINT "job_runs_pkey" PRIMARY KEY ("id")
      )`);
    // Worker events upsert by (queue, BullMQ job id).
    await queryRunner.query(
      `CREATE UNIQUE INDEX "job_runs_queue_job_id_key" ON "job_runs" ("queue", "job_id")`,
    );
    await queryRunner.query(`CREATE INDEX "job_runs_user_id_idx" ON "job_runs" ("user_id")`);
    // The dead-letter list.
    await queryRunner.query(`
      CREATE INDEX "job_runs_dead_idx" ON "job_runs" ("updated_at") WHERE "status" = 'dead'`);

    await queryRunner.query(`
      CREATE TABLE "cron_runs" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "name" character varying(64) NOT NULL,
        "tick" TIMESTAMP WITH TIME ZONE NOT NULL,
        "trigger" character varying(16) NOT NULL,
        "status" character varying(16) NOT NULL DEFAULT 'running',
        "claimed_by" character varying(255) NOT NULL,
        "queued_count" integer NOT NULL DEFAULT '0',
        "skipped_count" integer NOT NULL DEFAULT '0',
        "error" text,
        "started_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "finished_at" TIMESTAMP WITH TIME ZONE,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "cron_runs_trigger_check" CHECK ("trigger" IN ('schedule', 'catch-up', 'manual')),
        CONSTRAINT "cron_runs_status_check" CHECK ("status" IN ('running', 'completed', 'failed')),
        CONSTRAINT "cron_runs_pkey" PRIMARY KEY ("id")
      )`);
    // The claim: the insert that wins owns the tick; also "latest tick of a cron" for catch-up.
    await queryRunner.query(
      `CREATE UNIQUE INDEX "cron_runs_name_tick_key" ON "cron_runs" ("name", "tick")`,
    );

    await queryRunner.query(`
      CREATE TABLE "outbox_events" (
        "id" uuid NOT NULL,
        "event_type" character varying(64) NOT NULL,
        "payload" jsonb NOT NULL,
        "publish_attempts" integer NOT NULL DEFAULT '0',
        "last_error" text,
        "published_at" TIMESTAMP WITH TIME ZONE,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "outbox_events_pkey" PRIMARY KEY ("id")
      )`);
    // The sweeper reads only rows not yet published, oldest first.
    await queryRunner.query(`
      CREATE INDEX "outbox_events_unpublished_idx" ON "outbox_events" ("created_at")
        WHERE "published_at" IS NULL`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    // Children before parents; dropping a table drops its indexes and constraints.
    for (const table of [
      'outbox_events',
      'cron_runs',
      'job_runs',
      'billing_periods',
      'billing_accounts',
      'subscriber_count_snapshots',
      'sync_runs',
      'subscribers',
      'esp_connections',
      'sessions',
      'login_codes',
      'users',
    ]) {
      await queryRunner.query(`DROP TABLE "${table}"`);
    }
  }
}
