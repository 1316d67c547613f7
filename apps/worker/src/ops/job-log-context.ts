import { Job } from 'bullmq';
import { Logger } from 'pino';
import { Store, storage } from 'nestjs-pino/storage';
import { correlationIdOf } from './job-audit.listener';

/**
 * Runs one job attempt with a logger bound to the job (nestjs-pino's async context, the one a
 * request gets in the api): when the payload has a `correlationId` (the api request or cron tick
 * behind the job), every line any service logs while the job runs carries it (the lines name
 * their job themselves). `root`: the service's pino logger, outside any context.
 * `grep <correlation id>` over both services' logs then shows a sync from request to finish.
 */
export function inJobLogContext<T>(root: Logger, job: Job, run: () => Promise<T>): Promise<T> {
  const correlationId = correlationIdOf(job);
  if (!correlationId) return run();
  return storage.run(new Store(root.child({ correlationId })), run);
}
