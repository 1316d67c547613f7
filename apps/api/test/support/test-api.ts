import { Type } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import {
  ApiEnv,
  EncryptionService,
  JobPayloads,
  QUEUE,
  runMigrations,
  validatedConfigModule,
} from '@subscribernest/shared';
import {
  createTestDatabase,
  createTestQueuePrefix,
  serviceEnv,
  TestDatabase,
  TestQueuePrefix,
  testRedisUrl,
} from '@subscribernest/testkit';
import { Job, Queue } from 'bullmq';
import { register } from 'prom-client';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module';
import { AUTH_POLICY, AuthPolicy, DEFAULT_AUTH_POLICY } from '../../src/auth/auth-policy';
import { API_APP_OPTIONS, configureApp } from '../../src/configure-app';
import { waitingLoginCode } from './login-code-row';

export interface TestApiOptions {
  /** Extra or overridden environment variables. */
  env?: Record<string, string>;
  /** Redis the app talks to (the test's own reader always uses the real one). */
  redisUrl?: string;
  /** Changes to the production auth limits (e.g. a high per-IP limit for busy suites). */
  authPolicy?: Partial<AuthPolicy>;
  /** Test-only controllers mounted next to the real ones. */
  controllers?: Type[];
  /**
   * Another replica of `first`: same database, BullMQ prefix and keys (its env, plus `env`).
   * Closing it leaves the database and the Redis keys to `first`.
   */
  replicaOf?: TestApi;
}

export interface TestApi {
  app: NestExpressApplication;
  http: () => ReturnType<typeof request>;
  env: Record<string, string>;
  database: TestDatabase;
  dataSource: DataSource;
  /** Built from the app's keys, independently of the app: what the worker would do. */
  encryption: EncryptionService;
  /** A reader of the app's `email` queue (same Redis and prefix). */
  emailQueue: Queue;
  /** A reader of the app's `domain-events` queue (same Redis and prefix). */
  domainEventsQueue: Queue;
  close(): Promise<void>;
}

/**
 * The real api (AppModule + configureApp, as main.ts builds it) on its own freshly migrated
 * database and BullMQ prefix, with real Postgres and Redis. One per test file.
 */
export async function startTestApi(options: TestApiOptions = {}): Promise<TestApi> {
  const first = options.replicaOf;
  const database = first?.database ?? (await createTestDatabase({ setup: runMigrations }));
  const queues: TestQueuePrefix = first
    ? { prefix: first.env.QUEUE_PREFIX, cleanup: async () => undefined }
    : createTestQueuePrefix();
  const env = first
    ? { ...first.env, ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}), ...options.env }
    : serviceEnv({
        databaseUrl: database.url,
        queuePrefix: queues.prefix,
        redisUrl: options.redisUrl,
        extra: { LOG_LEVEL: 'silent', ...options.env },
      });
  Object.assign(process.env, env);
  // prom-client's default registry is process-wide: a second app in one test file (a replica,
  // another deployment) registers the same metric names again.
  register.clear();

  const builder = Test.createTestingModule({
    imports: [AppModule.forRoot(await validatedConfigModule(ApiEnv))],
    controllers: options.controllers ?? [],
  });
  if (options.authPolicy) {
    builder
      .overrideProvider(AUTH_POLICY)
      .useValue({ ...DEFAULT_AUTH_POLICY, ...options.authPolicy });
  }
  const moduleRef = await builder.compile();
  const app = configureApp(
    moduleRef.createNestApplication<NestExpressApplication>(API_APP_OPTIONS),
  );
  await app.init();

  const emailQueue = new Queue(QUEUE.email, {
    connection: { url: testRedisUrl() },
    prefix: queues.prefix,
  });
  const domainEventsQueue = new Queue(QUEUE.domainEvents, {
    connection: { url: testRedisUrl() },
    prefix: queues.prefix,
  });
  return {
    app,
    http: () => request(app.getHttpServer()),
    env,
    database,
    dataSource: app.get(DataSource),
    encryption: EncryptionService.fromSettings({
      ENCRYPTION_KEY: env.ENCRYPTION_KEY,
      HMAC_KEY: env.HMAC_KEY,
    }),
    emailQueue,
    domainEventsQueue,
    close: async () => {
      await app.close();
      await emailQueue.close();
      await domainEventsQueue.close();
      if (first) return;
      await database.drop();
      await queues.cleanup();
    },
  };
}

export type LoginCodeJob = Job<JobPayloads['login-code']>;

/** The newest code sent to `email`: its row id, its queued job and the decrypted code. */
export async function latestLoginCode(
  api: TestApi,
  email: string,
): Promise<{ loginCodeId: string; job: LoginCodeJob; code: string }> {
  const [row] = await api.dataSource.query<{ id: string }[]>(
    'SELECT id FROM login_codes WHERE email = $1 ORDER BY created_at DESC LIMIT 1',
    [email.trim().toLowerCase()],
  );
  if (!row) throw new Error(`no login code for ${email}`);
  const job = (await api.emailQueue.getJob(row.id)) as LoginCodeJob | undefined;
  if (!job) throw new Error(`no login-code job ${row.id}`);
  const code = await waitingLoginCode(api.dataSource, api.encryption, row.id);
  return { loginCodeId: row.id, job, code };
}

export interface SignedIn {
  token: string;
  user: { id: string; email: string; isOnboarded: boolean; deleteRequestedAt: string | null };
}

/** Signs in through the real routes: send-code, read the code from the queue, verify-code. */
export async function signIn(api: TestApi, email: string): Promise<SignedIn> {
  await api.http().post('/auth/send-code').send({ email }).expect(200);
  const { code } = await latestLoginCode(api, email);
  const response = await api.http().post('/auth/verify-code').send({ email, code }).expect(200);
  return response.body as SignedIn;
}

/** A different code of six digits. */
export function wrongCode(code: string): string {
  return ((Number(code) + 1) % 1_000_000).toString().padStart(6, '0');
}
