import { EventEmitter } from 'node:events';
import { AddressInfo } from 'node:net';
import { AddressObject, simpleParser } from 'mailparser';
import { SMTPServer, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';

/** One message the sink accepted, parsed. */
export interface FakeSmtpMessage {
  /** The From header as written (`Name <address>`). */
  from: string;
  /** The envelope recipients (RCPT TO), lower-cased. */
  to: string[];
  subject: string;
  text: string;
  /** The HTML part, or '' when the message had none. */
  html: string;
  /** Every header, lower-cased names, as text. */
  headers: Record<string, string>;
  /** The message exactly as received (RFC 822). */
  raw: string;
  receivedAt: Date;
}

export interface FakeSmtpServerOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Listen address (default 127.0.0.1; 0.0.0.0 in a container). */
  host?: string;
  /**
   * A certificate and key to offer STARTTLS with (clients with `requireTLS` need it). Without
   * one the sink speaks plain SMTP only and refuses STARTTLS.
   */
  tls?: { cert: string; key: string };
}

export interface FakeSmtpServer {
  /** `smtp://127.0.0.1:<port>`: what SMTP_URL points at. */
  url: string;
  port: number;
  /** Messages accepted so far, oldest first. */
  messages: FakeSmtpMessage[];
  /** How many messages were answered with an error (see `failNext`). */
  rejected: number;
  /** Resolves with the first accepted message (already here or still to come) matching `predicate`. */
  waitForMessage(
    predicate?: (message: FakeSmtpMessage) => boolean,
    timeoutMs?: number,
  ): Promise<FakeSmtpMessage>;
  /** Forgets the messages received so far (and pending failures). */
  clear(): void;
  /** Answers the next `count` messages (after DATA) with `code` (4xx transient, 5xx permanent). */
  failNext(count: number, code?: number): void;
  stop(): Promise<void>;
}

type CodedError = Error & { responseCode: number };

function addressText(value: AddressObject | AddressObject[] | undefined): string {
  if (!value) return '';
  return Array.isArray(value) ? value.map((a) => a.text).join(', ') : value.text;
}

function readAll(stream: SMTPServerDataStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/**
 * A local SMTP sink that speaks real SMTP (smtp-server, plain text unless given a certificate
 * for STARTTLS, any AUTH accepted) and keeps every message parsed (mailparser), for tests and the demo. `failNext` makes
 * it refuse messages, to exercise retries.
 */
export const FakeSmtpServer = {
  async start(options: FakeSmtpServerOptions = {}): Promise<FakeSmtpServer> {
    const messages: FakeSmtpMessage[] = [];
    const arrivals = new EventEmitter();
    arrivals.setMaxListeners(0);
    let failures: { remaining: number; code: number } = { remaining: 0, code: 451 };
    let rejected = 0;

    const accept = async (stream: SMTPServerDataStream, session: SMTPServerSession) => {
      const raw = await readAll(stream);
      if (failures.remaining > 0) {
        failures.remaining -= 1;
        rejected += 1;
        // Like real servers, a permanent failure names the recipient (workers must not repeat it).
        const recipient = session.envelope.rcptTo.map((rcpt) => rcpt.address).join(', ');
        const error = new Error(
          failures.code >= 500
            ? `<${recipient}>: Mailbox unavailable (fake)`
            : 'Try again later (fake)',
        ) as CodedError;
        error.responseCode = failures.code;
        throw error;
      }
      const parsed = await simpleParser(raw);
      const headers: Record<string, string> = {};
      for (const line of parsed.headerLines) {
        headers[line.key] = line.line.slice(line.line.indexOf(':') + 1).trim();
      }
      const message: FakeSmtpMessage = {
        from: addressText(parsed.from),
        to: session.envelope.rcptTo.map((rcpt) => rcpt.address.toLowerCase()),
        subject: parsed.subject ?? '',
        text: parsed.text ?? '',
        html: typeof parsed.html === 'string' ? parsed.html : '',
        headers,
        raw: raw.toString('utf8'),
        receivedAt: new Date(),
      };
      messages.push(message);
      arrivals.emit('message', message);
    };

    const server = new SMTPServer({
      secure: false,
      ...(options.tls
        ? { key: options.tls.key, cert: options.tls.cert }
        : { disabledCommands: ['STARTTLS'] }),
      authOptional: true,
      allowInsecureAuth: true,
      logger: false,
      banner: 'fake SMTP sink',
      onAuth: (_auth, _session, callback) => callback(null, { user: 'fake' }),
      onData: (stream, session, callback) => {
        accept(stream, session).then(
          () => callback(),
          (error: Error) => callback(error),
        );
      },
    });
    // Client disconnects and protocol errors are the client's business, not a crash here.
    server.on('error', () => undefined);

    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const port = (server.server.address() as AddressInfo).port;

    const sink: FakeSmtpServer = {
      url: `smtp://127.0.0.1:${port}`,
      port,
      messages,
      get rejected() {
        return rejected;
      },
      waitForMessage(predicate = () => true, timeoutMs = 20_000) {
        const found = messages.find(predicate);
        if (found) return Promise.resolve(found);
        return new Promise((resolve, reject) => {
          const onMessage = (message: FakeSmtpMessage) => {
            if (!predicate(message)) return;
            clearTimeout(timer);
            arrivals.off('message', onMessage);
            resolve(message);
          };
          const timer = setTimeout(() => {
            arrivals.off('message', onMessage);
            reject(
              new Error(
                `Timed out after ${timeoutMs} ms waiting for an email (${messages.length} received)`,
              ),
            );
          }, timeoutMs);
          arrivals.on('message', onMessage);
        });
      },
      clear() {
        messages.length = 0;
        failures = { remaining: 0, code: 451 };
        rejected = 0;
      },
      failNext(count, code = 451) {
        if (code < 400 || code > 599) throw new Error(`failNext: ${code} is not a 4xx/5xx reply`);
        failures = { remaining: count, code };
      },
      stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
    return sink;
  },
};
