import { readFileSync } from 'node:fs';
import { FAKE_ESP_CLI_USAGE, parseFakeEspCliArgs } from './cli-options';
import { FakeEspServer } from './fake-esp-server';

/**
 * Runs the fake ESP server until SIGTERM/SIGINT: `node packages/testkit/dist/fake-esp/cli.js
 * --beehiiv pub_demo:5000 --kit 424242:2000 --mailchimp list_demo:3000`. Prints one JSON line
 * (url, baseUrls, accounts with their keys) once it listens.
 */
async function main(): Promise<void> {
  let options;
  try {
    options = parseFakeEspCliArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`fake-esp: ${(error as Error).message}\n\n${FAKE_ESP_CLI_USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (options.help) {
    process.stdout.write(FAKE_ESP_CLI_USAGE);
    return;
  }
  const server = await FakeEspServer.start({
    accounts: options.accounts,
    port: options.port,
    host: options.host,
    ...(options.rateLimits ? { rateLimits: options.rateLimits } : {}),
    ...(options.tlsKeyPath && options.tlsCertPath
      ? { tls: { key: readFileSync(options.tlsKeyPath), cert: readFileSync(options.tlsCertPath) } }
      : {}),
    // Nobody reads a long-running server's request log: keep memory flat.
    recordRequests: false,
  });
  const shutdown = (): void => {
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  process.stdout.write(`${JSON.stringify(server.describe())}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`fake-esp: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
