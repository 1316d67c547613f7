import { randomUUID } from 'node:crypto';
import { Response, Test } from 'supertest';
import { insertConnection, insertSubscribers } from './support/subscriber-factory';
import { signIn, startTestApi, TestApi } from './support/test-api';
import { ProbeController } from './support/probe.controller';

interface OpenApiOperation {
  security?: Record<string, string[]>[];
  responses: Record<string, unknown>;
}
interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
}

interface RouterLayer {
  route?: { path: string; methods: Record<string, boolean> };
}

describe('HTTP surface (real app)', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi({
      controllers: [ProbeController],
      // Behind one trusted proxy: its X-Request-Id is the request's id.
      env: { CORS_ORIGINS: 'http://localhost:3000, https://app.example.com', TRUST_PROXY: '1' },
    });
  });

  afterAll(async () => {
    await api?.close();
  });

  describe('public and guarded routes', () => {
    it('keeps /health, /metrics and /docs public', async () => {
      await api.http().get('/health').expect(200);
      const metrics = await api.http().get('/metrics').expect(200);
      expect(metrics.text).toContain('process_cpu_user_seconds_total');
      await api.http().get('/docs').expect(200);
      await api.http().get('/docs-json').expect(200);
    });

    it('answers 401 on any other route without a token, 404 on no route at all', async () => {
      await api.http().get(`/probe/things/${randomUUID()}`).expect(401);
      await api.http().get('/probe/admin').expect(401);
      await api.http().get('/no-such-route').expect(404);
    });
  });

  describe('ids', () => {
    it('answers 400 naming the parameter when an id is not a UUID', async () => {
      const { token } = await signIn(api, 'ids@example.com');
      for (const id of ['123', 'not-a-uuid', `${randomUUID()}0`, "1' OR '1'='1"]) {
        const response = await api
          .http()
          .get(`/probe/things/${encodeURIComponent(id)}`)
          .set('authorization', `Bearer ${token}`)
          .expect(400);
        expect(response.body).toEqual({
          statusCode: 400,
          message: 'id must be a UUID',
          error: 'Bad Request',
        });
      }
      const id = randomUUID();
      const ok = await api
        .http()
        .get(`/probe/things/${id}`)
        .set('authorization', `Bearer ${token}`)
        .expect(200);
      expect(ok.body.id).toBe(id);
    });

    it('answers 400 for a malformed percent-encoding in the path', async () => {
      await api.http().get('/probe/things/%E0%A4%A').expect(400);
    });
  });

  describe('roles', () => {
    it('lets admins through @AdminOnly() routes and answers 403 to everyone else', async () => {
      const user = await signIn(api, 'plain-user@example.com');
      const denied = await api
        .http()
        .get('/probe/admin')
        .set('authorization', `Bearer ${user.token}`)
        .expect(403);
      expect(denied.body).toEqual({
        statusCode: 403,
        message: 'This needs the admin role',
        error: 'Forbidden',
      });

      const admin = await signIn(api, 'the-admin@example.com');
      await api.dataSource.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [admin.user.id]);
      const allowed = await api
        .http()
        .get('/probe/admin')
        .set('authorization', `Bearer ${admin.token}`)
        .expect(200);
      expect(allowed.body).toEqual({ role: 'admin' });
    });
  });

  describe('errors', () => {
    it('never answers an unexpected error with its internals', async () => {
      const response = await api.http().get('/probe/crash').expect(500);
      expect(response.body).toEqual({
        statusCode: 500,
        message: 'Internal server error',
        error: 'Internal Server Error',
      });
      expect(response.text).not.toContain('db-internal');
    });

    it('answers 400, not 500, when Postgres rejects input as malformed', async () => {
      const response = await api.http().get('/probe/bad-cast').expect(400);
      expect(response.body).toEqual({
        statusCode: 400,
        message: 'Invalid input',
        error: 'Bad Request',
      });
      expect(response.text).not.toContain('not-a-uuid');
    });

    it('answers 409 for a unique conflict, without the driver detail', async () => {
      const response = await api.http().get('/probe/duplicate').expect(409);
      expect(response.text).not.toContain('dup@example.com');
      expect(response.text).not.toContain('users_email_lower_key');
    });

    it.each([
      ['truncated JSON', '{"email":'],
      ['a bare word', 'hello'],
      ['JSON with a trailing comma', '{"email": "a@example.com",}'],
    ])('answers 400 for %s', async (_case, body) => {
      const response = await api
        .http()
        .post('/auth/send-code')
        .set('content-type', 'application/json')
        .set('x-request-id', 'bad-json-1')
        .send(body)
        .expect(400);
      expect(response.body.message).toBe('Malformed JSON in request body');
      // The request went through the logger's middleware: it has its request id.
      expect(response.headers['x-request-id']).toBe('bad-json-1');
    });

    it('answers 400 for a JSON array or a non-object body', async () => {
      for (const body of ['[{"email":"a@example.com"}]', '"a@example.com"', 'null']) {
        await api
          .http()
          .post('/auth/send-code')
          .set('content-type', 'application/json')
          .send(body)
          .expect(400);
      }
    });

    it('answers 413 for a body above the size limit', async () => {
      const response = await api
        .http()
        .post('/auth/send-code')
        .set('content-type', 'application/json')
        .send(JSON.stringify({ email: 'a@example.com', padding: 'x'.repeat(200_000) }))
        .expect(413);
      expect(response.body.statusCode).toBe(413);
    });

    it('answers 400 with field messages for a form-encoded body it does not read', async () => {
      const response = await api
        .http()
        .post('/auth/send-code')
        .type('form')
        .send('email=a@example.com')
        .expect(400);
      expect(response.body.fields).toEqual({
        email: expect.arrayContaining(['email must be an email']),
      });
    });
  });

  describe('headers', () => {
    it('sets helmet security headers and echoes request ids', async () => {
      const response = await api.http().get('/health').set('x-request-id', 'req-42').expect(200);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(response.headers['content-security-policy']).toContain("default-src 'self'");
      expect(response.headers['content-security-policy']).not.toContain(
        'upgrade-insecure-requests',
      );
      expect(response.headers['x-powered-by']).toBeUndefined();
      expect(response.headers['x-request-id']).toBe('req-42');
    });

    it('tells every cache to keep no copy of any answer, personal data or error', async () => {
      const { token, user } = await signIn(api, 'no-store@example.com');
      const connection = await insertConnection(api, user.id);
      const [subscriber] = await insertSubscribers(api, connection, [
        { email: 'reader@example.com' },
        { email: 'gone@example.com', status: 'unsubscribed' },
      ]);
      const signedIn = (request: Test) => request.set('authorization', `Bearer ${token}`);
      /** What each route answered: its status and Cache-Control. */
      const answers: { route: string; status: number; cacheControl: unknown }[] = [];
      const expected: typeof answers = [];
      const check = async (route: string, request: Test, status: number): Promise<Response> => {
        const response = await request;
        answers.push({
          route,
          status: response.status,
          cacheControl: response.headers['cache-control'],
        });
        expected.push({ route, status, cacheControl: 'no-store' });
        return response;
      };

      await check('GET /auth/me', signedIn(api.http().get('/auth/me')), 200);
      await check('GET /dashboard (no such route)', signedIn(api.http().get('/dashboard')), 404);
      await check('GET /esp-connections', signedIn(api.http().get('/esp-connections')), 200);
      await check(
        'GET /jobs/:id (unknown)',
        signedIn(api.http().get(`/jobs/${randomUUID()}`)),
        404,
      );
      await check('GET /auth/me (no token)', api.http().get('/auth/me'), 401);
      // The routes issue 11 names, each answering for real: subscriber lists, unmasked
      // addresses, the export download, the dashboard and a job's status.
      await check(
        'GET /esp-connections/:id/subscribers',
        signedIn(api.http().get(`/esp-connections/${connection}/subscribers`)),
        200,
      );
      await check(
        'POST /subscribers/:id/unmask',
        signedIn(api.http().post(`/subscribers/${subscriber}/unmask`)),
        200,
      );
      const download = await check(
        'GET /esp-connections/:id/subscribers/export',
        signedIn(api.http().get(`/esp-connections/${connection}/subscribers/export?format=csv`)),
        200,
      );
      await check('GET /dashboard/stats', signedIn(api.http().get('/dashboard/stats')), 200);
      const sync = await check(
        'POST /esp-connections/:id/sync',
        signedIn(api.http().post(`/esp-connections/${connection}/sync`)),
        202,
      );
      const jobId = (sync.body as { jobId?: string }).jobId;
      await check('GET /jobs/:id', signedIn(api.http().get(`/jobs/${jobId}`)), 200);

      expect(answers).toEqual(expected);
      // The answers were the real ones, not errors that happen to carry the header.
      expect(download.text).toContain('reader@example.com');
    });

    it('answers CORS preflights for configured origins only', async () => {
      const preflight = await api
        .http()
        .options('/auth/me')
        .set('origin', 'https://app.example.com')
        .set('access-control-request-method', 'GET')
        .set('access-control-request-headers', 'authorization, content-type')
        .expect(204);
      expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example.com');
      expect(preflight.headers['access-control-allow-headers']).toContain('authorization');
      expect(preflight.headers['access-control-allow-headers']).toContain('content-type');

      const simple = await api.http().get('/health').set('origin', 'http://localhost:3000');
      expect(simple.headers['access-control-allow-origin']).toBe('http://localhost:3000');
      expect(simple.headers['access-control-expose-headers']).toContain('content-disposition');

      const foreign = await api.http().get('/health').set('origin', 'https://evil.example');
      expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  describe('OpenAPI', () => {
    let document: OpenApiDocument;

    beforeAll(async () => {
      document = (await api.http().get('/docs-json').expect(200)).body as OpenApiDocument;
    });

    it('serves Swagger UI at /docs', async () => {
      const page = await api.http().get('/docs').redirects(1).expect(200);
      expect(page.text).toContain('swagger-ui');
      await api.http().get('/docs/swagger-ui-init.js').expect(200);
    });

    it('documents every route the app serves', () => {
      const router = (
        api.app.getHttpAdapter().getInstance() as { router: { stack: RouterLayer[] } }
      ).router;
      const served = router.stack
        .filter((layer) => layer.route && !/^\/docs|\*/.test(layer.route.path))
        .flatMap((layer) =>
          Object.keys(layer.route!.methods).map(
            (method) => `${method} ${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`,
          ),
        )
        .filter((route) => !route.startsWith('_all'));
      const documented = Object.entries(document.paths).flatMap(([path, item]) =>
        Object.keys(item).map((method) => `${method} ${path}`),
      );
      expect(served).toEqual(
        expect.arrayContaining(['get /health', 'get /metrics', 'get /auth/me']),
      );
      expect(documented).toEqual(expect.arrayContaining(served));
    });

    it('documents the auth routes, their DTOs, and bearer auth on all but the public ones', () => {
      expect(document.components.securitySchemes.bearer).toMatchObject({
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'opaque',
        description: expect.stringContaining('not a JWT'),
      });
      for (const name of [
        'SendCodeDto',
        'VerifyCodeDto',
        'UserDto',
        'SignInResponseDto',
        'CurrentUserResponseDto',
        'OnboardingResponseDto',
        'SuccessResponseDto',
        'ErrorResponseDto',
      ]) {
        expect(document.components.schemas[name]).toBeDefined();
      }
      const operation = (method: string, path: string) => document.paths[path][method];
      for (const [method, path] of [
        ['post', '/auth/send-code'],
        ['post', '/auth/verify-code'],
        ['get', '/health'],
        ['get', '/metrics'],
      ] as const) {
        expect(operation(method, path).security).toEqual([]);
      }
      for (const [method, path] of [
        ['get', '/auth/me'],
        ['post', '/auth/logout'],
        ['post', '/auth/complete-onboarding'],
      ] as const) {
        expect(operation(method, path).security).toEqual([{ bearer: [] }]);
        expect(operation(method, path).responses['401']).toBeDefined();
      }
      expect(operation('post', '/auth/send-code').responses['429']).toBeDefined();
      expect(JSON.stringify(document)).not.toContain('x-public');
    });
  });
});
