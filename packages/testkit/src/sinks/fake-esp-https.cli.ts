import { connect } from 'node:net';
import { createServer } from 'node:tls';
import { FAKE_ESP_CLI_USAGE, parseFakeEspCliArgs } from '../fake-esp/cli-options';
import { FakeEspServer } from '../fake-esp/fake-esp-server';
import { readCertificate } from '../tls';
import { takeFlags } from './cli-flags';

const USAGE = `Usage: node packages/testkit/dist/sinks/fake-esp-https.cli.js --tls-dir <path> [fake ESP options]

The fake ESP (fake-esp/cli.js) behind TLS, for services that insist on https:// ESP URLs
(NODE_ENV=production). It serves the certificate in <tls-dir> (cert.pem, key.pem, as the mail
sink writes them), waiting for it to appear; --port and --host are where TLS listens.

${FAKE_ESP_CLI_USAGE}`;

async function main(): Promise<void> {
  const { flags, rest } = takeFlags(process.argv.slice(2), ['--tls-dir']);
  const options = parseFakeEspCliArgs(rest);
  if (options.help || flags['tls-dir'] === undefined) {
    process.stdout.write(USAGE);
    process.exitCode = options.help ? 0 : 2;
    return;
  }
  const { cert, key } = await readCertificate(flags['tls-dir']);
  const plain = await FakeEspServer.start({
    accounts: options.accounts,
    port: 0,
    host: '127.0.0.1',
    recordRequests: false,
  });
  const plainPort = Number(new URL(plain.url).port);
  // TLS terminated here; bytes go on to the plain fake unchanged.
  const server = createServer({ cert, key }, (socket) => {
    const upstream = connect(plainPort, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const shutdown = (): void => {
    server.close();
    plain.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  const description = plain.describe();
  process.stdout.write(
    `${JSON.stringify({ ...description, url: `https://${options.host}:${options.port}` })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `fake-esp-https: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
