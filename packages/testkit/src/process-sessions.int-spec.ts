import { Socket } from 'node:net';
import { Client } from 'pg';
import { createTestDatabase, TestDatabase } from './database';
import { freePort } from './ports';
import { SqlQuery, waitForProcessSessionsToEnd } from './process-sessions';

/** A Postgres client whose socket connects from `localPort`, as a reused ephemeral port would. */
function clientFrom(url: string, localPort?: number): Client {
  return new Client({
    connectionString: url,
    stream: () => {
      const socket = new Socket();
      const connect = socket.connect.bind(socket) as (options: object) => Socket;
      // pg calls connect(port, host); bind the local end before the connection is made.
      (socket as unknown as { connect: unknown }).connect = (port: number, host: string) =>
        connect({ port, host, localAddress: '127.0.0.1', localPort });
      return socket;
    },
  });
}

function portOf(client: Client): number {
  return (client as unknown as { connection: { stream: Socket } }).connection.stream.localPort!;
}

describe('waitForProcessSessionsToEnd (real Postgres)', () => {
  let database: TestDatabase;
  let observer: Client;
  let query: SqlQuery;

  beforeAll(async () => {
    database = await createTestDatabase();
    observer = new Client({ connectionString: database.url });
    await observer.connect();
    query = async (sql, parameters) => (await observer.query(sql, parameters)).rows as unknown[];
  });

  afterAll(async () => {
    await observer?.end();
    await database?.drop();
  });

  it('waits while a session that began before the kill is still open, and resolves once it ends', async () => {
    const leftover = clientFrom(database.url);
    await leftover.connect();
    const port = portOf(leftover);
    let ended = false;
    const waiting = waitForProcessSessionsToEnd(query, {
      ports: [port],
      startedBefore: new Date(),
    }).then(() => ended);

    await new Promise((resolve) => setTimeout(resolve, 300));
    ended = true;
    await leftover.end();
    await expect(waiting).resolves.toBe(true);
  });

  it('is not held by a later connection that happens to come from one of the gone process’s ports', async () => {
    // The gone process's port, free again; another client connects from it after the kill.
    const port = await freePort();
    const startedBefore = new Date(Date.now() - 1);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const stranger = clientFrom(database.url, port);
    await stranger.connect();
    try {
      expect(portOf(stranger)).toBe(port);
      await expect(
        waitForProcessSessionsToEnd(query, { ports: [port], startedBefore, timeoutMs: 5_000 }),
      ).resolves.toBeUndefined();
    } finally {
      await stranger.end();
    }
  });

  it('names the sessions still open when it gives up', async () => {
    const stuck = clientFrom(database.url);
    await stuck.connect();
    try {
      await expect(
        waitForProcessSessionsToEnd(query, {
          ports: [portOf(stuck)],
          startedBefore: new Date(Date.now() + 1_000),
          timeoutMs: 200,
        }),
      ).rejects.toThrow(
        new RegExp(`sessions to end; still open: .*"client_port":${portOf(stuck)}.*"state":"idle"`),
      );
    } finally {
      await stuck.end();
    }
  });
});
