import { INestApplicationContext, LoggerService } from '@nestjs/common';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

export interface GracefulShutdownOptions {
  /**
   * Runs first, before Nest's shutdown hooks (the api drains its HTTP requests here, while Redis
   * and Postgres are still open under them).
   */
  beforeClose?: () => Promise<unknown>;
}

/**
 * SIGTERM/SIGINT run `beforeClose`, then Nest's shutdown hooks (close workers, queues, servers,
 * connections), and exit 0. A watchdog exits 1 if that takes longer than `timeoutMs`, so a stuck
 * drain never outlives the container's stop grace period unnoticed; a failing hook exits 1 too.
 * A second signal during shutdown changes nothing.
 */
export function enableGracefulShutdown(
  app: INestApplicationContext,
  logger: LoggerService,
  timeoutMs: number,
  options: GracefulShutdownOptions = {},
): void {
  let closing = false;
  for (const signal of SIGNALS) {
    process.on(signal, () => {
      if (closing) return;
      closing = true;
      logger.log(`${signal} received: shutting down (timeout ${timeoutMs} ms)`, 'Shutdown');
      setTimeout(() => {
        logger.error(
          `Shutdown did not finish within ${timeoutMs} ms; exiting`,
          undefined,
          'Shutdown',
        );
        process.exit(1);
      }, timeoutMs).unref();
      void shutDown(app, signal, options).then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error(
            `Shutdown failed: ${error instanceof Error ? error.message : String(error)}`,
            error instanceof Error ? error.stack : undefined,
            'Shutdown',
          );
          process.exit(1);
        },
      );
    });
  }
}

/** Nest's close() passes the signal on to the shutdown hooks; its public type omits it. */
type ClosableWithSignal = { close(signal?: string): Promise<void> };

async function shutDown(
  app: INestApplicationContext,
  signal: string,
  options: GracefulShutdownOptions,
): Promise<void> {
  await options.beforeClose?.();
  await (app as unknown as ClosableWithSignal).close(signal);
}
