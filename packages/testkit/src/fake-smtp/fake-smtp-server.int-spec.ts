import { createTransport } from 'nodemailer';
import { FakeSmtpServer } from './fake-smtp-server';

describe('FakeSmtpServer (real SMTP on a local port)', () => {
  let smtp: FakeSmtpServer;

  beforeAll(async () => {
    smtp = await FakeSmtpServer.start();
  });

  afterAll(async () => {
    await smtp?.stop();
  });

  beforeEach(() => smtp.clear());

  const send = (to: string, subject: string, auth = false) =>
    createTransport({
      url: smtp.url,
      ...(auth ? { auth: { user: 'u', pass: 'p' } } : {}),
    }).sendMail({
      from: 'Sender <sender@example.test>',
      to,
      subject,
      text: `plain ${subject}`,
      html: `<p>html ${subject}</p>`,
    });

  it('listens on 127.0.0.1 and parses what it receives', async () => {
    expect(smtp.url).toBe(`smtp://127.0.0.1:${smtp.port}`);
    await send('Jane@Example.test', 'hello');

    const message = await smtp.waitForMessage((m) => m.subject === 'hello', 5_000);
    expect(message).toMatchObject({
      from: '"Sender" <sender@example.test>',
      to: ['jane@example.test'],
      subject: 'hello',
      text: 'plain hello',
      html: '<p>html hello</p>',
    });
    expect(message.raw).toContain('Subject: hello');
    expect(smtp.messages).toHaveLength(1);
  });

  it('accepts any AUTH and waits for a message still to come', async () => {
    const waiting = smtp.waitForMessage((m) => m.subject === 'later', 5_000);
    await send('a@example.test', 'later', true);
    await expect(waiting).resolves.toMatchObject({ to: ['a@example.test'] });
  });

  it('answers the next messages with the given code, then accepts again', async () => {
    smtp.failNext(2, 451);
    await expect(send('a@example.test', 'one')).rejects.toMatchObject({ responseCode: 451 });
    await expect(send('a@example.test', 'two')).rejects.toMatchObject({ responseCode: 451 });
    await send('a@example.test', 'three');
    expect(smtp.messages.map((m) => m.subject)).toEqual(['three']);
    expect(smtp.rejected).toBe(2);

    smtp.failNext(1, 550);
    await expect(send('a@example.test', 'four')).rejects.toMatchObject({ responseCode: 550 });
    expect(() => smtp.failNext(1, 250)).toThrow('not a 4xx/5xx');
  });

  it('times out when no message matches', async () => {
    await expect(smtp.waitForMessage((m) => m.subject === 'never', 200)).rejects.toThrow(
      'Timed out after 200 ms',
    );
  });

  it('clear() forgets the messages', async () => {
    await send('a@example.test', 'x');
    smtp.clear();
    expect(smtp.messages).toEqual([]);
  });
});
