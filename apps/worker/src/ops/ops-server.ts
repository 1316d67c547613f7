import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { PlatformHealthService, WorkerEnv } from '@subscribernest/shared';
import { register } from 'prom-client';

/** What every other path answers: fixed, so nothing a caller sends is echoed back. */
export const OPS_NOT_FOUND = { statusCode: 404, message: 'Not found' } as const;

/**
 * The worker's only listener, on HOST:OPS_PORT: `GET /health` (Postgres + Redis, as on the api)
 * and `GET /metrics` (Prometheus). No business routes live here; the worker is an application
 * context.
 */
@Injectable()
export class OpsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OpsServer.name);
  private server?: Server;

  constructor(
    private readonly health: PlatformHealthService,
    private readonly config: ConfigService<WorkerEnv, true>,
  ) {}

  /** The port actually bound (useful when OPS_PORT is 0 in tests). */
  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  /** The address actually bound (HOST). */
  get host(): string | undefined {
    return (this.server?.address() as AddressInfo | null)?.address;
  }

  async onApplicationBootstrap(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    const host = this.config.get('HOST', { infer: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.get('OPS_PORT', { infer: true }), host, () => resolve());
    });
    this.server = server;
    this.logger.log(`ops listener on ${host} port ${this.port} (/health, /metrics)`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET')
      return this.send(res, 405, 'application/json', { message: 'Method not allowed' });
    if (path === '/health') {
      try {
        return this.send(res, 200, 'application/json', await this.health.check());
      } catch (error) {
        // Terminus throws a 503 carrying the same result shape the api answers with.
        const response = (error as { getResponse?: () => unknown }).getResponse?.();
        return this.send(res, 503, 'application/json', response ?? { status: 'error' });
      }
    }
    if (path === '/metrics') {
      return this.send(res, 200, register.contentType, await register.metrics());
    }
    return this.send(res, 404, 'application/json', OPS_NOT_FOUND);
  }

  private send(res: ServerResponse, status: number, type: string, body: unknown): void {
    res.writeHead(status, { 'content-type': type });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  }
}
