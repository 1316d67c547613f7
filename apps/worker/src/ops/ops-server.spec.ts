import { ConfigService } from '@nestjs/config';
import { PlatformHealthService, WorkerEnv } from '@subscribernest/shared';
import { OPS_NOT_FOUND, OpsServer } from './ops-server';

/** The ops listener on its own: bound to HOST, answering unknown paths without echoing them. */
describe('OpsServer', () => {
  let server: OpsServer | undefined;

  const start = async (settings: Partial<WorkerEnv>): Promise<OpsServer> => {
    const config = { get: (key: keyof WorkerEnv) => settings[key] };
    const health = { check: async () => ({ status: 'ok' }) };
    server = new OpsServer(
      health as unknown as PlatformHealthService,
      config as unknown as ConfigService<WorkerEnv, true>,
    );
    await server.onApplicationBootstrap();
    return server;
  };

  afterEach(async () => {
    await server?.onApplicationShutdown();
    server = undefined;
  });

  it('listens on HOST: 127.0.0.1 keeps the port on this machine', async () => {
    const ops = await start({ HOST: '127.0.0.1', OPS_PORT: 0 });
    expect(ops.host).toBe('127.0.0.1');
    const health = await fetch(`http://127.0.0.1:${ops.port}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
  });

  it('listens on every interface with 0.0.0.0', async () => {
    const ops = await start({ HOST: '0.0.0.0', OPS_PORT: 0 });
    expect(ops.host).toBe('0.0.0.0');
    expect((await fetch(`http://127.0.0.1:${ops.port}/health`)).status).toBe(200);
  });

  it('answers an unknown path 404 with a fixed body that does not repeat the path', async () => {
    const ops = await start({ HOST: '127.0.0.1', OPS_PORT: 0 });
    const probe = '/<script>alert(1)</script>/admin?token=secret-value';
    for (const path of [probe, '/esp-connections', '/health/../etc/passwd']) {
      const response = await fetch(`http://127.0.0.1:${ops.port}${path}`);
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toBe('application/json');
      const body = await response.text();
      expect(JSON.parse(body)).toEqual(OPS_NOT_FOUND);
      expect(body).not.toContain('script');
      expect(body).not.toContain('secret-value');
      expect(body).not.toContain('esp-connections');
    }
    expect(OPS_NOT_FOUND).toEqual({ statusCode: 404, message: 'Not found' });
  });
});
