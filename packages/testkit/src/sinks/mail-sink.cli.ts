import { createServer, ServerResponse } from 'node:http';
import { FakeSmtpMessage, FakeSmtpServer } from '../fake-smtp';
import { loadOrCreateCertificate } from '../tls';
import { hostList, portFlag, takeFlags } from './cli-flags';

const USAGE = `Usage: node packages/testkit/dist/sinks/mail-sink.cli.js [options]

A mail sink for the compose deployment: accepts every message over SMTP (STARTTLS offered with a
self-signed certificate, so clients can use requireTLS=true) and shows what arrived over HTTP.

  --smtp-port <n>      SMTP port (default 1025)
  --http-port <n>      HTTP view (default 8025): GET /messages[?to=<address>] (JSON, newest
                       last), GET /health
  --host <address>     listen address (default 0.0.0.0)
  --tls-dir <path>     where the certificate lives (cert.pem, key.pem), made when missing
                       (default /tmp/mail-sink-tls); clients trust <tls-dir>/cert.pem
  --tls-hosts <a,b>    names the certificate is for (default mail,localhost,127.0.0.1)
  --keep <n>           messages kept, oldest dropped first (default 1000)
`;

const MAX_KEEP = 100_000;

function view(message: FakeSmtpMessage) {
  const { from, to, subject, text, receivedAt } = message;
  return { from, to, subject, text, receivedAt: receivedAt.toISOString() };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) {
    process.stdout.write(USAGE);
    return;
  }
  const { flags, rest } = takeFlags(argv, [
    '--smtp-port',
    '--http-port',
    '--host',
    '--tls-dir',
    '--tls-hosts',
    '--keep',
  ]);
  if (rest.length > 0) throw new Error(`unknown option ${rest[0]}`);
  const host = flags.host ?? '0.0.0.0';
  const keep = Math.min(Number(flags.keep ?? 1000) || 1000, MAX_KEEP);
  const tls = loadOrCreateCertificate(
    flags['tls-dir'] ?? '/tmp/mail-sink-tls',
    hostList(flags['tls-hosts'], ['mail', 'localhost', '127.0.0.1']),
  );
  const smtp = await FakeSmtpServer.start({
    port: portFlag('smtp-port', flags['smtp-port'], 1025),
    host,
    tls,
  });

  const http = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sink');
    if (req.method !== 'GET') return json(res, 405, { error: 'GET only' });
    if (smtp.messages.length > keep) smtp.messages.splice(0, smtp.messages.length - keep);
    if (url.pathname === '/health') return json(res, 200, { status: 'ok' });
    if (url.pathname === '/messages') {
      const to = url.searchParams.get('to')?.toLowerCase();
      const found = smtp.messages.filter((m) => to === undefined || m.to.includes(to));
      return json(res, 200, found.map(view));
    }
    return json(res, 404, { error: 'GET /messages or /health' });
  });
  const httpPort = portFlag('http-port', flags['http-port'], 8025);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(httpPort, host, () => resolve());
  });

  const shutdown = (): void => {
    http.close();
    smtp.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  process.stdout.write(
    `${JSON.stringify({ smtp: `smtp://${host}:${smtp.port}`, http: `http://${host}:${httpPort}` })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `mail-sink: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`,
  );
  process.exit(1);
});
