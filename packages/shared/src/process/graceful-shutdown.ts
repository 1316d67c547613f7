import { INestApplicationContext, LoggerService } from '@nestjs/common';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * SIGTERM/SIGINT run Nest's shutdown hooks (close workers, queues, servers, connections) and then
 * exit 0. A watchdog exits 1 if that takes longer than `timeoutMs`, so a stuck drain never outlives
 * the container's stop grace period unnoticed.
 */
export function enableGracefulShutdown(
  app: INestApplicationContext,
  logger: LoggerService,
  timeoutMs: number,
): void {
  app.enableShutdownHooks([...SIGNALS], { useProcessExit: true });
  for (const signal of SIGNALS) {
    process.once(signal, () => {
      logger.log(`${signal} received: shutting down (timeout ${timeoutMs} ms)`, 'Shutdown');
      setTimeout(() => {
        logger.error(
          `Shutdown did not finish within ${timeoutMs} ms; exiting`,
          undefined,
          'Shutdown',
        );
        process.exit(1);
      }, timeoutMs).unref();
    });
  }
}
