import { Job } from 'bullmq';
import { Logger } from 'pino';
import { Store, storage } from 'nestjs-pino/storage';
import { correlationIdOf, traceContextOf } from './job-audit.listener';

/**
 * Runs one job attempt with a logger bound to the job (nestjs-pino's async context, the one a
 * request gets in the api): when the payload has a `correlationId` (the api request or cron tick
 * behind the job) and/or a `traceparent` (the request's W3C trace context), every line any
 * service logs while the job runs carries the correlation id and the `traceId` (the lines name
 * their job themselves). `root`: the service's pino logger, outside any context.
 * `grep <correlation id>` or `grep <trace id>` over both services' logs then shows a sync from
 * request to finish.
 */
export function inJobLogContext<T>(root: Logger, job: Job, run: () => Promise<T>): Promise<T> {
  const correlationId = correlationIdOf(job);
  const trace = traceContextOf(job);
  if (!correlationId && !trace) return run();
  const bindings = {
    ...(correlationId ? { correlationId } : {}),
    ...(trace ? { traceId: trace.traceId } : {}),
  };
  return storage.run(new Store(root.child(bindings)), run);
}
