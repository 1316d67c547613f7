/**
 * What the `subscriber_counts` triggers cost the sync's write path: the sync's own upsert
 * (`upsertSubscriberPage`, one 1,000-row `unnest` INSERT … ON CONFLICT DO UPDATE per page) of
 * the same pre-encrypted rows into the same table, with the three counting triggers disabled
 * (`ALTER TABLE … DISABLE TRIGGER`, the FK triggers stay) and enabled, in turns:
 *
 *   insert  a first sync: every row new (insert trigger);
 *   update  a re-sync of the same rows where every 10th changed status and the rest are
 *           unchanged (update trigger on the changed rows, skipped rows in neither table).
 *
 * The table is truncated and checkpointed before each pass, and the order alternates per round
 * (without → with, then with → without), so neither mode always runs on a warmer machine.
 * Prints rows/s per mode and pass and with/without (1.00 = free).
 *
 *   npm run bench -- counts                              200,000 rows, 2 rounds
 *   npm run bench -- counts --size 50000 --rounds 1
 *
 * Needs Postgres (scripts/services.sh).
 */
import {
  dataSourceOptions,
  EncryptionService,
  maskEmail,
  runMigrations,
  SubscriberRow,
  upsertSubscriberPage,
} from '@subscribernest/shared';
import { createTestDatabase, testSecrets } from '@subscribernest/testkit';
import { DataSource } from 'typeorm';
import { flag } from './bench-args';

const PAGE = 1_000;
const TRIGGERS = [
  'subscriber_counts_insert',
  'subscriber_counts_update',
  'subscriber_counts_delete',
];
type Mode = 'without' | 'with';
type Pass = 'insert' | 'update';

async function main(): Promise<void> {
  const size = Number(flag('size', '200000'));
  const rounds = Number(flag('rounds', '2'));
  const json = process.argv.includes('--json');
  const log = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);

  const database = await createTestDatabase({ prefix: 'sn_bench', setup: runMigrations });
  const dataSource = await new DataSource(dataSourceOptions(database.url)).initialize();
  const encryption = EncryptionService.fromSettings(testSecrets());
  try {
    const [user] = await dataSource.query<{ id: string }[]>(
      `INSERT INTO users (email) VALUES ('bench@example.com') RETURNING id`,
    );
    const [connection] = await dataSource.query<{ id: string }[]>(
      `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id)
       VALUES ($1, 'beehiiv', 'enc', 'bench') RETURNING id`,
      [user.id],
    );
    const first: SubscriberRow[] = Array.from({ length: size }, (_, i) => {
      const email = `reader-${i}@example.com`;
      return {
        externalId: `ext-${i}`,
        emailEncrypted: encryption.encrypt(email),
        emailHmac: encryption.emailHmac(email),
        emailMasked: maskEmail(email),
        status: i % 6 === 5 ? 'bounced' : i % 6 === 3 ? 'unsubscribed' : 'active',
        firstName: `First${i}`,
        lastName: `Last${i}`,
        subscribedAt: new Date('2026-01-01T00:00:00Z'),
        unsubscribedAt: null,
        metadata: { source: 'bench' },
      };
    });
    const changed: SubscriberRow[] = first.map((row, i) =>
      i % 10 === 0 ? { ...row, status: row.status === 'active' ? 'unsubscribed' : 'active' } : row,
    );

    const setTriggers = async (mode: Mode) => {
      for (const name of TRIGGERS) {
        await dataSource.query(
          `ALTER TABLE subscribers ${mode === 'with' ? 'ENABLE' : 'DISABLE'} TRIGGER ${name}`,
        );
      }
    };
    const write = async (rows: SubscriberRow[]): Promise<number> => {
      const started = process.hrtime.bigint();
      for (let i = 0; i < rows.length; i += PAGE) {
        await upsertSubscriberPage(dataSource.manager, connection.id, rows.slice(i, i + PAGE));
      }
      return Number(process.hrtime.bigint() - started) / 1e9;
    };

    const seconds: Record<Mode, Record<Pass, number>> = {
      without: { insert: 0, update: 0 },
      with: { insert: 0, update: 0 },
    };
    log(`Counting-trigger cost: ${size.toLocaleString('en-US')} rows, ${PAGE}-row upserts`);
    log('round  mode     pass    seconds  rows/s');
    for (let round = 0; round < rounds; round++) {
      const order: Mode[] = round % 2 === 0 ? ['without', 'with'] : ['with', 'without'];
      for (const mode of order) {
        await dataSource.query('TRUNCATE subscribers');
        await dataSource.query('CHECKPOINT');
        await setTriggers(mode);
        for (const [pass, rows] of [
          ['insert', first],
          ['update', changed],
        ] as const) {
          const s = await write(rows);
          seconds[mode][pass] += s;
          log(
            `${String(round + 1).padStart(5)}  ${mode.padEnd(7)}  ${pass.padEnd(6)}  ` +
              `${s.toFixed(2).padStart(7)}  ${String(Math.round(size / s)).padStart(6)}`,
          );
        }
        if (mode === 'with') {
          const [check] = await dataSource.query<{ exact: boolean }[]>(
            `SELECT (SELECT coalesce(sum(count), 0) FROM subscriber_counts
                      WHERE esp_connection_id = $1 AND status = 'active')
                  = (SELECT count(*) FROM subscribers
                      WHERE esp_connection_id = $1 AND status = 'active') AS exact`,
            [connection.id],
          );
          if (!check.exact) throw new Error('the counts differ from count(*)');
        }
      }
    }
    const rate = (mode: Mode, pass: Pass) => (size * rounds) / seconds[mode][pass];
    const ratio = (pass: Pass) => rate('with', pass) / rate('without', pass);
    const total = (mode: Mode) => seconds[mode].insert + seconds[mode].update;
    log('');
    log(
      `insert: ${Math.round(rate('with', 'insert'))} rows/s with, ` +
        `${Math.round(rate('without', 'insert'))} without → with/without ${ratio('insert').toFixed(3)}`,
    );
    log(
      `update (10% status changes): ${Math.round(rate('with', 'update'))} rows/s with, ` +
        `${Math.round(rate('without', 'update'))} without → with/without ${ratio('update').toFixed(3)}`,
    );
    log(
      `both passes: trigger cost ${(((total('with') - total('without')) / total('without')) * 100).toFixed(1)}% of the time`,
    );
    if (json) {
      process.stdout.write(
        `${JSON.stringify({ size, rounds, seconds, insertRatio: ratio('insert'), updateRatio: ratio('update') })}\n`,
      );
    }
  } finally {
    await dataSource.destroy();
    await database.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
