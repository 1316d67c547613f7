import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { Response, Test } from 'supertest';
import { EspTestApi, KEYS, startEspTestApi } from './support/fake-esp-api';
import { insertSubscribers } from './support/subscriber-factory';
import { signIn, TestApi } from './support/test-api';

/**
 * Sends malformed input to every operation of the app's own OpenAPI document (so a new route is
 * fuzzed the day it is documented): bad path ids, bodies of the wrong shape, type, size, depth or
 * encoding, bad query values and odd headers, anonymously, as a user and as an admin. Whatever it
 * sends, the app must answer without a 5xx, and every 4xx must say what was wrong.
 */

interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  example?: unknown;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, Schema>;
  required?: string[];
}
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  schema?: Schema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  security?: unknown[];
}
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

type Method = 'get' | 'post' | 'patch' | 'put' | 'delete';
const METHODS: Method[] = ['get', 'post', 'patch', 'put', 'delete'];

/** One request of the fuzz, as a description of what differs from a plain call. */
interface Variant {
  label: string;
  /** Path params replacing the plain ones. */
  path?: Record<string, string>;
  /** Raw query string (already encoded), without `?`. */
  query?: string;
  /** A JSON value to send, or a raw body with its headers. */
  json?: unknown;
  raw?: { body: string | Buffer; headers: Record<string, string> };
  /** Headers replacing (or, with `undefined`, removing) the identity's. */
  headers?: Record<string, string | undefined>;
  /**
   * Statuses this variant must get (else: any non-5xx, with a named 4xx). A 401 or 403 is
   * always accepted too: refusing the caller before reading the body is as good.
   */
  expect?: number[];
}

interface Identity {
  name: 'anonymous' | 'user' | 'admin';
  token?: string;
  /** Ids the identity owns, by the path's first segment (`esp-connections`, `subscribers`...). */
  ids: Record<string, string>;
}

/** Messages that say nothing about what was wrong. */
const GENERIC_MESSAGES = new Set([
  'bad request',
  'invalid input',
  'unauthorized',
  'forbidden',
  'not found',
  'conflict',
  'error',
  'payload too large',
  'unsupported media type',
  'too many requests',
  'unprocessable entity',
  'method not allowed',
  'internal server error',
  'validation failed',
]);

/** Why a 4xx body does not name its problem, or undefined when it does. */
function unnamedProblem(response: Response): string | undefined {
  if (!/json/.test(response.headers['content-type'] ?? '')) return 'a 4xx without a JSON body';
  const message = (response.body as { message?: unknown } | undefined)?.message;
  const messages = typeof message === 'string' ? [message] : Array.isArray(message) ? message : [];
  if (messages.length === 0) return 'no message';
  for (const text of messages) {
    if (typeof text !== 'string' || text.trim() === '') return 'an empty message';
    if (GENERIC_MESSAGES.has(text.trim().replace(/\.$/, '').toLowerCase())) {
      return `a generic message (${text})`;
    }
  }
  return undefined;
}

/** `[[[…]]]` `levels` deep, as text (a 3 KB body at 1,500 levels). */
const deepJson = (levels: number, inner = '1') => '['.repeat(levels) + inner + ']'.repeat(levels);

/** A parsed value `levels` arrays deep, built without recursion. */
function deepValue(levels: number): unknown {
  let value: unknown = 1;
  for (let level = 0; level < levels; level++) value = [value];
  return value;
}

const LONG = 'x'.repeat(60_000);
const LONE_SURROGATE_EMAIL = '\ud800a@b.co';

/** Malformed values of one path parameter, already encoded for the URL. */
const PATH_VALUES: [string, string][] = [
  ['not-a-uuid', 'not-a-uuid'],
  ['very long', 'a'.repeat(4_000)],
  ['unicode', encodeURIComponent('😀-ünï-中文-\u202e')],
  ['NUL', '%00'],
  ['dot-dot-slash', '..%2F..%2Fetc%2Fpasswd'],
  ['malformed percent-encoding', '%E0%A4%A'],
  ['SQL', encodeURIComponent("1' OR '1'='1")],
  ['a UUID with a suffix', `${randomUUID()}0`],
  ['the nil UUID', '00000000-0000-0000-0000-000000000000'],
  ['an encoded lone surrogate', '%ED%A0%80'],
];

/** Malformed values of one query parameter: `name` → the raw query string. */
const QUERY_VALUES: [string, (name: string) => string][] = [
  ['-1', (name) => `${name}=-1`],
  ['0', (name) => `${name}=0`],
  ['1e308', (name) => `${name}=1e308`],
  ['400 digits', (name) => `${name}=${'9'.repeat(400)}`],
  ['NaN', (name) => `${name}=NaN`],
  ['Infinity', (name) => `${name}=Infinity`],
  ['1.5', (name) => `${name}=1.5`],
  ['abc', (name) => `${name}=abc`],
  ['an array', (name) => `${name}=1&${name}=2`],
  ['empty', (name) => `${name}=`],
  ['no value', (name) => name],
  ['an object', (name) => `${name}[a]=1`],
  ['deeply nested', (name) => `${name}${'[a]'.repeat(40)}=1`],
  ['NUL', (name) => `${name}=%00`],
  ['an encoded lone surrogate', (name) => `${name}=%ED%A0%80`],
  ['malformed percent-encoding', (name) => `${name}=%E0%A4%A`],
  ['very long', (name) => `${name}=${'a'.repeat(4_000)}`],
  ['2^53 + 1', (name) => `${name}=9007199254740993`],
  ['10^20 in digits', (name) => `${name}=100000000000000000000`],
];

/** A declared parameter's own bounds, and one past each. */
function boundValues(name: string, schema: Schema | undefined): [string, string][] {
  const values: [string, string][] = [];
  if (schema?.minimum !== undefined) {
    values.push([`the minimum (${schema.minimum})`, `${name}=${schema.minimum}`]);
    values.push([`below the minimum`, `${name}=${schema.minimum - 1}`]);
  }
  if (schema?.maximum !== undefined) {
    values.push([`the maximum (${schema.maximum})`, `${name}=${schema.maximum}`]);
    values.push([`above the maximum`, `${name}=${schema.maximum + 1}`]);
  }
  return values;
}

/** Wrong-typed values for one body property, whatever its declared type. */
const WRONG_VALUES: [string, unknown][] = [
  ['a number', 12345],
  ['a huge number', 1e308],
  ['a boolean', true],
  ['null', null],
  ['an empty array', []],
  ['an array of strings', ['jane@example.com']],
  ['an object', { nested: 'value' }],
  ['deeply nested', deepValue(1_500)],
  ['a huge string', LONG],
  ['an empty string', ''],
  ['whitespace', '   '],
  ['a lone surrogate', LONE_SURROGATE_EMAIL],
  ['a low surrogate alone', 'a\udc00'],
  ['a NUL', 'a\u0000b'],
  ['right-to-left and emoji', '\u202e😀@example.com'],
];

/** Bodies every route must refuse before it runs, whatever it expects. */
const REJECTED_BODIES: Variant[] = [
  {
    label: 'invalid JSON',
    raw: { body: '{"email":', headers: { 'content-type': 'application/json' } },
    expect: [400],
  },
  {
    label: 'JSON nested 1,500 levels (3 KB)',
    raw: { body: deepJson(1_500), headers: { 'content-type': 'application/json' } },
    expect: [400],
  },
  {
    label: 'an object nested 40 levels',
    raw: {
      body: `${'{"a":'.repeat(40)}1${'}'.repeat(40)}`,
      headers: { 'content-type': 'application/json' },
    },
    expect: [400],
  },
  {
    label: 'a lone surrogate',
    raw: { body: '{"email":"\\ud800a@b.co"}', headers: { 'content-type': 'application/json' } },
    expect: [400],
  },
  {
    label: 'a lone surrogate in a property name',
    raw: { body: '{"\\udfff":1}', headers: { 'content-type': 'application/json' } },
    expect: [400],
  },
  {
    label: 'a body above the size limit',
    raw: {
      body: JSON.stringify({ padding: 'x'.repeat(150_000) }),
      headers: { 'content-type': 'application/json' },
    },
    expect: [413],
  },
  {
    label: 'an unsupported charset',
    raw: { body: '{}', headers: { 'content-type': 'application/json; charset=iso-8859-1' } },
    expect: [415],
  },
  {
    label: 'an unsupported content-encoding',
    raw: { body: '{}', headers: { 'content-type': 'application/json', 'content-encoding': 'zz' } },
    expect: [415],
  },
  {
    label: 'gzip that is not gzip',
    raw: {
      body: Buffer.from('definitely not gzip'),
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    },
    expect: [400],
  },
  {
    label: 'brotli that is not brotli',
    raw: {
      body: Buffer.from('definitely not brotli'),
      headers: { 'content-type': 'application/json', 'content-encoding': 'br' },
    },
    expect: [400],
  },
  {
    label: 'deflate that is not deflate',
    raw: {
      body: Buffer.from('definitely not deflate'),
      headers: { 'content-type': 'application/json', 'content-encoding': 'deflate' },
    },
    expect: [400],
  },
  {
    label: 'gzip cut short',
    raw: {
      body: gzipSync('{"email":"a@example.com"}').subarray(0, 12),
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    },
    expect: [400],
  },
  {
    label: 'gzip of 1,500 levels',
    raw: {
      body: gzipSync(deepJson(1_500)),
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    },
    expect: [400],
  },
];

/** Odd headers: `token` is the identity's own (or undefined when anonymous). */
function headerVariants(token: string | undefined): Variant[] {
  const bearer = token ? { authorization: `Bearer ${token}` } : {};
  return [
    { label: 'Authorization: Bearer (no token)', headers: { authorization: 'Bearer' } },
    { label: 'Authorization: Bearer <garbage>', headers: { authorization: 'Bearer garbage' } },
    {
      label: 'Authorization: a very long token',
      headers: { authorization: `Bearer ${'A'.repeat(6_000)}` },
    },
    { label: 'Authorization: Basic', headers: { authorization: 'Basic dXNlcjpwYXNz' } },
    { label: 'Authorization: latin-1 bytes', headers: { authorization: 'Bearer \u00ff\u00fe' } },
    ...(token
      ? [
          { label: 'Authorization: token + junk', headers: { authorization: `Bearer ${token}x` } },
          {
            label: 'Authorization: two tokens',
            headers: { authorization: `Bearer ${token}, Bearer ${token}` },
          },
          {
            label: 'Authorization: lower-case scheme',
            headers: { authorization: `bearer ${token}` },
          },
        ]
      : []),
    { label: 'X-Request-Id: 8 KB', headers: { ...bearer, 'x-request-id': 'r'.repeat(8_000) } },
    {
      label: 'X-Request-Id: markup',
      headers: { ...bearer, 'x-request-id': '<script>alert(1)</script>' },
    },
    { label: 'X-Request-Id: latin-1', headers: { ...bearer, 'x-request-id': '\u00ff\u00fe..' } },
    { label: 'X-Request-Id: empty', headers: { ...bearer, 'x-request-id': '' } },
    {
      label: 'Cookie: malformed',
      headers: { ...bearer, cookie: `sn=%E0%A4%A; ${'c'.repeat(3_000)}=1; =; ;;` },
    },
  ];
}

/**
 * Operations that end the caller's session(s) or account: each gets a fresh identity after every
 * request it did not refuse, so the rest of the run keeps its own. A new route that revokes
 * sessions belongs here: run in the parallel pool it would sign the identity out early, and
 * every later request would be a 401 the harness accepts (the checks after each run catch it).
 */
const DESTRUCTIVE = new Set(['post /auth/logout', 'post /auth/logout-all', 'post /account/delete']);

/**
 * Answers other than 401/403 each signed-in identity must get from the parallel pool. A healthy
 * run lets the user in about 1,100 times and the admin about 1,400; with `POST /auth/logout-all`
 * left in the pool, both fell to about 600 (signed out halfway).
 */
const MIN_ADMITTED = 800;

describe('OpenAPI fuzz (real app, Postgres, Redis, fake ESP)', () => {
  let esp: EspTestApi;
  let api: TestApi;
  let document: OpenApiDocument;
  let identities: Identity[];
  let signIns = 0;
  let sent = 0;
  const failures: string[] = [];

  const resolve = (schema: Schema | undefined): Schema | undefined =>
    schema?.$ref ? document.components.schemas[schema.$ref.split('/').pop()!] : schema;

  /** A plain (not necessarily accepted) value for a schema: the starting point of mutations. */
  const plainValue = (schema: Schema | undefined): unknown => {
    const resolved = resolve(schema) ?? {};
    if (resolved.example !== undefined) return resolved.example;
    if (resolved.enum?.length) return resolved.enum[0];
    if (resolved.format === 'email') return 'fuzz@example.com';
    if (resolved.type === 'integer' || resolved.type === 'number') return 1;
    if (resolved.type === 'boolean') return true;
    if (resolved.type === 'array') return [];
    if (resolved.type === 'object' && resolved.properties) return plainBody(resolved);
    return 'fuzz';
  };
  const plainBody = (schema: Schema): Record<string, unknown> =>
    Object.fromEntries(
      Object.entries(schema.properties ?? {}).map(([name, property]) => [
        name,
        plainValue(property),
      ]),
    );

  /** A new account for `name` (an admin gets the role in Postgres). */
  const newIdentity = async (
    name: Identity['name'],
    ids: Record<string, string>,
  ): Promise<Identity> => {
    if (name === 'anonymous') return { name, ids };
    const { token, user } = await signIn(api, `fuzz-${name}-${++signIns}@example.com`);
    if (name === 'admin') {
      await api.dataSource.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [user.id]);
    }
    return { name, token, ids };
  };

  /** A connection (through the real route, checked with the fake ESP) with three subscribers. */
  const ownedIds = async (identity: Identity, apiKey: string, publicationId: string) => {
    const created = await api
      .http()
      .post('/esp-connections')
      .set('authorization', `Bearer ${identity.token}`)
      .send({ espType: 'beehiiv', apiKey, publicationId })
      .expect(201);
    const connectionId = (created.body as { id: string }).id;
    const [subscriberId] = await insertSubscribers(api, connectionId, [
      { email: `${identity.name}-one@example.com` },
      { email: `${identity.name}-two@example.com`, status: 'unsubscribed' },
      { email: `${identity.name}-three@example.com`, status: 'bounced' },
    ]);
    const sync = await api
      .http()
      .post(`/esp-connections/${connectionId}/sync`)
      .set('authorization', `Bearer ${identity.token}`)
      .expect(202);
    identity.ids['esp-connections'] = connectionId;
    identity.ids.subscribers = subscriberId;
    identity.ids.jobs = (sync.body as { jobId: string }).jobId;
  };

  beforeAll(async () => {
    esp = await startEspTestApi();
    api = esp.api;
    document = (await api.http().get('/docs-json').expect(200)).body as OpenApiDocument;
    const user = await newIdentity('user', {});
    const admin = await newIdentity('admin', {});
    await ownedIds(user, KEYS.beehiiv, 'pub_weekly');
    await ownedIds(admin, KEYS.beehiivOther, 'pub_bob');
    identities = [{ name: 'anonymous', ids: {} }, user, admin];
  });

  afterAll(async () => {
    await esp?.close();
  });

  /** The plain value of a path parameter for `identity`: an id it owns where it has one. */
  const plainPathValue = (
    identity: Identity,
    method: Method,
    path: string,
    parameter: Parameter,
  ): string => {
    const schema = resolve(parameter.schema);
    if (schema?.enum?.length) return String(schema.enum[0]);
    // Never delete what the rest of the run reads: a DELETE gets an id nobody owns.
    const owned = method === 'delete' ? undefined : identity.ids[path.split('/')[1]];
    return owned ?? randomUUID();
  };

  /** Every variant for one operation and identity. */
  function variants(
    method: Method,
    path: string,
    operation: Operation,
    identity: Identity,
  ): Variant[] {
    const parameters = operation.parameters ?? [];
    const list: Variant[] = [{ label: 'plain' }];
    for (const parameter of parameters.filter((p) => p.in === 'path')) {
      for (const [label, value] of PATH_VALUES) {
        list.push({ label: `path ${parameter.name}: ${label}`, path: { [parameter.name]: value } });
      }
      // What another account owns under the same path: 404 as if it did not exist (or, where
      // admins may look, the row), never a 5xx.
      const segment = path.split('/')[1];
      for (const other of identities.filter((each) => each.name !== identity.name)) {
        const id = other.ids[segment];
        if (id && method !== 'delete') {
          list.push({
            label: `path ${parameter.name}: ${other.name}'s`,
            path: { [parameter.name]: id },
          });
        }
      }
    }
    // Anonymous calls to a guarded route are refused (401) before any query or body is read:
    // they get the path, raw-body and header variants, and one of each kind below.
    const refusedFirst = identity.name === 'anonymous' && (operation.security?.length ?? 0) > 0;
    const queryValues = refusedFirst ? QUERY_VALUES.slice(0, 3) : QUERY_VALUES;
    const wrongValues = refusedFirst ? WRONG_VALUES.slice(0, 3) : WRONG_VALUES;
    for (const parameter of parameters.filter((p) => p.in === 'query')) {
      for (const [label, query] of queryValues) {
        list.push({ label: `query ${parameter.name}: ${label}`, query: query(parameter.name) });
      }
      for (const [label, query] of boundValues(parameter.name, resolve(parameter.schema))) {
        list.push({ label: `query ${parameter.name}: ${label}`, query });
      }
    }
    list.push({ label: 'query: an unknown parameter', query: 'zzz=1' });

    const schema = resolve(operation.requestBody?.content?.['application/json']?.schema);
    if (schema) {
      const plain = plainBody(schema);
      list.push({ label: 'body: plain', json: plain });
      for (const property of Object.keys(schema.properties ?? {})) {
        for (const [label, value] of wrongValues) {
          list.push({ label: `body ${property}: ${label}`, json: { ...plain, [property]: value } });
        }
        const { [property]: _left, ...without } = plain;
        list.push({ label: `body ${property}: missing`, json: without });
      }
      list.push(
        { label: 'body: an unknown property', json: { ...plain, role: 'admin' } },
        { label: 'body: __proto__', raw: rawJson(`{"__proto__":{"role":"admin"}}`) },
        { label: 'body: constructor.prototype', json: { constructor: { prototype: { a: 1 } } } },
        { label: 'body: an array instead of an object', json: [plain] },
        { label: 'body: a string', raw: rawJson('"jane@example.com"') },
        { label: 'body: a number', raw: rawJson('42') },
        { label: 'body: null', raw: rawJson('null') },
        { label: 'body: empty JSON', raw: rawJson('') },
        { label: 'body: an empty object', json: {} },
        {
          label: 'body: duplicate keys',
          raw: rawJson('{"email":"a@example.com","email":{"$gt":""}}'),
        },
        {
          label: 'body: text/plain',
          raw: { body: JSON.stringify(plain), headers: { 'content-type': 'text/plain' } },
        },
        {
          label: 'body: form-encoded',
          raw: {
            body: 'email=a%40example.com&code=000000',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          },
        },
        {
          label: 'body: XML',
          raw: {
            body: '<email>a@example.com</email>',
            headers: { 'content-type': 'application/xml' },
          },
        },
        {
          label: 'body: no content-type',
          raw: { body: JSON.stringify(plain), headers: { 'content-type': '' } },
        },
      );
    }
    list.push(...REJECTED_BODIES);
    list.push(...headerVariants(identity.token));
    return list;
  }

  const rawJson = (body: string) => ({ body, headers: { 'content-type': 'application/json' } });

  function build(
    method: Method,
    path: string,
    operation: Operation,
    identity: Identity,
    variant: Variant,
  ): { request: Test; url: string } {
    let url = path;
    for (const parameter of (operation.parameters ?? []).filter((p) => p.in === 'path')) {
      const value =
        variant.path?.[parameter.name] ??
        encodeURIComponent(plainPathValue(identity, method, path, parameter));
      url = url.replace(`{${parameter.name}}`, value);
    }
    if (variant.query !== undefined) url += `?${variant.query}`;
    let request = api.http()[method](url).timeout(15_000);
    const headers: Record<string, string | undefined> = {
      ...(identity.token ? { authorization: `Bearer ${identity.token}` } : {}),
      ...variant.headers,
    };
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined) request = request.set(name, value);
    }
    if (variant.json !== undefined) request = request.send(variant.json as object);
    if (variant.raw) {
      for (const [name, value] of Object.entries(variant.raw.headers)) {
        request = request.set(name, value);
      }
      // As given: superagent would otherwise serialize a Buffer sent as JSON.
      request = request.serialize((body: unknown) => body as string).send(variant.raw.body);
    }
    return { request, url };
  }

  /** Sends one variant and records what is wrong with its answer. Returns the status. */
  async function fuzzOne(
    method: Method,
    path: string,
    operation: Operation,
    identity: Identity,
    variant: Variant,
  ): Promise<number> {
    const { request, url } = build(method, path, operation, identity, variant);
    const where = `${identity.name} ${method.toUpperCase()} ${url.slice(0, 160)} [${variant.label}]`;
    sent++;
    let response: Response;
    try {
      response = await request;
    } catch (error) {
      failures.push(`${where}: no answer (${(error as Error).message})`);
      return 0;
    }
    const body = `${response.status} ${(response.text ?? '').slice(0, 300)}`;
    if (response.status >= 500) failures.push(`${where}: ${body}`);
    else if (variant.expect && ![...variant.expect, 401, 403].includes(response.status)) {
      failures.push(`${where}: expected ${variant.expect.join('/')}, got ${body}`);
    } else if (response.status >= 400) {
      const problem = unnamedProblem(response);
      if (problem) failures.push(`${where}: ${problem}: ${body}`);
    }
    return response.status;
  }

  /** Runs `tasks` with at most `width` in flight. */
  async function pool(tasks: (() => Promise<unknown>)[], width: number): Promise<void> {
    let next = 0;
    const lanes = Array.from({ length: Math.min(width, tasks.length) }, async () => {
      while (next < tasks.length) await tasks[next++]();
    });
    await Promise.all(lanes);
  }

  it('answers every malformed request to every documented operation without a 5xx, naming what was wrong', async () => {
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      METHODS.filter((method) => item[method]).map((method) => ({
        method,
        path,
        operation: item[method],
      })),
    );
    // Sanity: the document is the app's, new routes included.
    expect(operations.length).toBeGreaterThanOrEqual(30);
    expect(operations.map(({ method, path }) => `${method} ${path}`)).toEqual(
      expect.arrayContaining(['post /auth/send-code', 'get /esp-connections/{id}/subscribers']),
    );

    /** Per identity: answers of the parallel pool other than 401/403 (the identity was let in). */
    const admitted: Record<string, number> = {};
    /** Per signed-in identity: what `GET /auth/me` answered with its token after its run. */
    const stillSignedIn: Record<string, number> = {};
    for (const identity of identities) {
      const safe = operations.filter(({ method, path }) => !DESTRUCTIVE.has(`${method} ${path}`));
      admitted[identity.name] = 0;
      await pool(
        safe.flatMap(({ method, path, operation }) =>
          variants(method, path, operation, identity).map((variant) => async () => {
            const status = await fuzzOne(method, path, operation, identity, variant);
            if (status !== 0 && status !== 401 && status !== 403) admitted[identity.name]++;
          }),
        ),
        8,
      );
      // Last, one at a time, each on an identity of its own that is replaced once it was used up.
      for (const { method, path, operation } of operations.filter(({ method, path }) =>
        DESTRUCTIVE.has(`${method} ${path}`),
      )) {
        let own = await newIdentity(identity.name, identity.ids);
        const count = variants(method, path, operation, own).length;
        for (let index = 0; index < count; index++) {
          // Built again each time: the header variants hold the current token.
          const variant = variants(method, path, operation, own)[index];
          const status = await fuzzOne(method, path, operation, own, variant);
          if (status < 400 && own.token) own = await newIdentity(identity.name, identity.ids);
        }
      }
      // Nothing in its run may have ended this identity's session: once it is ended, every later
      // request is a 401 the harness accepts, and the fuzz silently stops testing signed-in routes.
      if (identity.token) {
        const me = await api
          .http()
          .get('/auth/me')
          .set('authorization', `Bearer ${identity.token}`);
        stillSignedIn[identity.name] = me.status;
      }
    }

    expect(sent).toBeGreaterThan(1_000);
    expect(failures).toEqual([]);
    expect(stillSignedIn).toEqual({ user: 200, admin: 200 });
    const tooFew = identities
      .filter((identity) => identity.token && admitted[identity.name] < MIN_ADMITTED)
      .map((identity) => `${identity.name}: ${admitted[identity.name]} let in`);
    expect(tooFew).toEqual([]);
    // Thousands of requests: minutes on a loaded two-core machine, seconds on a quiet one.
  }, 240_000);
});
