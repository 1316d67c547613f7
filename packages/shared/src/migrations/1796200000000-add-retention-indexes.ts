import { MigrationInterface, QueryRunner } from 'typeorm';

/** Each index the retention prunes look their rows up by: its name, and its table and definition. */
const INDEXES: [name: string, definition: string][] = [
  ['login_codes_created_at_idx', `"login_codes" ("created_at")`],
  [
    'login_codes_ciphertext_expires_at_idx',
    `"login_codes" ("expires_at") WHERE "code_encrypted" IS NOT NULL`,
  ],
  ['sessions_expires_at_idx', `"sessions" ("expires_at")`],
  ['sessions_revoked_at_idx', `"sessions" ("revoked_at") WHERE "revoked_at" IS NOT NULL`],
  [
    'outbox_events_published_at_idx',
    `"outbox_events" ("published_at") WHERE "published_at" IS NOT NULL`,
  ],
  [
    'job_runs_finished_updated_at_idx',
    `"job_runs" ("updated_at") WHERE "status" IN ('completed', 'failed', 'dead')`,
  ],
  [
    'cron_runs_finished_at_idx',
    `"cron_runs" ("finished_at") WHERE "status" IN ('completed', 'failed')`,
  ],
];

/**
 * Issue 11: the worker's daily `data-retention` cron deletes, in batches, rows past their
 * retention. Each batch looks its rows up by the column the cut-off applies to; without these
 * indexes every batch would scan the whole table. The partial ones hold only the rows a prune may
 * take (finished jobs and ticks, published events, revoked sessions, codes still holding a
 * ciphertext), so they stay small next to the tables they serve.
 *
 * Built CONCURRENTLY (outside a transaction), so a deployment with big `job_runs` or
 * `login_codes` tables keeps signing users in and recording jobs while they build. An index a
 * failed run left half-built (invalid) is dropped and built again.
 */
export class AddRetentionIndexes1796200000000 implements MigrationInterface {
  name = 'AddRetentionIndexes1796200000000';
  transaction = false;

  public async up(queryRunner: QueryRunner): Promise<void> {
    for (const [name, definition] of INDEXES) {
      await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS "${name}"`);
      await queryRunner.query(`CREATE INDEX CONCURRENTLY "${name}" ON ${definition}`);
    }
  }

  // Reverts run in a transaction: plain DROP INDEX.
  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const [name] of [...INDEXES].reverse()) {
      await queryRunner.query(`DROP INDEX "${name}"`);
    }
  }
}
