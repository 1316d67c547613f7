import { IncomingMessage, Server, ServerResponse } from 'node:http';
import { LoggerService } from '@nestjs/common';

/** What a drain did: requests that finished in time, and those cut off when it ran out. */
export interface HttpDrainOutcome {
  inFlight: number;
  finished: number;
  cut: number;
}

/**
 * The api's half of a graceful shutdown, run on SIGTERM before Nest's shutdown hooks close Redis
 * and Postgres under running requests. It stops accepting connections, closes idle keep-alive
 * sockets at once (and each busy one as soon as its response ends, with `Connection: close` on
 * responses not yet started), and lets in-flight requests — a large export download — finish
 * within the drain time. A response still running then is cut off by destroying its socket: the
 * chunked body never gets its final chunk, so any HTTP client reports an incomplete transfer
 * instead of a file that looks whole.
 */
export class HttpDrain {
  private readonly active = new Set<ServerResponse>();
  private draining = false;

  constructor(
    private readonly server: Server,
    private readonly logger: LoggerService,
  ) {
    server.on('request', (_request: IncomingMessage, response: ServerResponse) =>
      this.track(response),
    );
  }

  /** Requests being answered now. */
  get inFlight(): number {
    return this.active.size;
  }

  async drain(timeoutMs: number): Promise<HttpDrainOutcome> {
    this.draining = true;
    const inFlight = this.active.size;
    for (const response of this.active) this.closeAfter(response);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    this.logger.log(
      `Draining ${inFlight} in-flight request(s) for up to ${timeoutMs} ms`,
      'Shutdown',
    );

    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      closed.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    const cut = timedOut ? this.active.size : 0;
    if (timedOut) {
      this.logger.warn(
        `Drain time up: cutting off ${cut} request(s) still running (their clients see an incomplete transfer)`,
        'Shutdown',
      );
      this.server.closeAllConnections();
    } else {
      this.logger.log(`Drained: ${inFlight} in-flight request(s) finished`, 'Shutdown');
    }
    return { inFlight, finished: inFlight - cut, cut };
  }

  private track(response: ServerResponse): void {
    this.active.add(response);
    if (this.draining) this.closeAfter(response);
    response.once('close', () => {
      this.active.delete(response);
      // The socket turns idle once Node has detached the finished response from it.
      if (this.draining) setImmediate(() => this.server.closeIdleConnections());
    });
  }

  /** Asks Node to close the socket once this response ends (if its headers are not sent yet). */
  private closeAfter(response: ServerResponse): void {
    if (!response.headersSent) response.setHeader('Connection', 'close');
  }
}
