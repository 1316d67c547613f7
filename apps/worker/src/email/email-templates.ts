/** A rendered email: what the mailer sends, before addressing. */
export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

export interface LoginCodeEmail {
  code: string;
  /** Whole minutes the code stays valid (10 for a code sent at once). */
  validMinutes: number;
}

export interface SignInNotificationEmail {
  signedInAt: Date;
  ip: string | null;
  userAgent: string | null;
}

const PRODUCT = 'SubscriberNest';

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** IP and user agent come from the client's request: never put them in HTML unescaped. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);
}

function layout(title: string, body: string): string {
  return [
    '<!doctype html>',
    '<html><head><meta charset="utf-8"><title>',
    escapeHtml(title),
    '</title></head>',
    '<body style="font-family: Arial, Helvetica, sans-serif; color: #1f2933; line-height: 1.5">',
    body,
    `<p style="color: #7b8794; font-size: 12px">${PRODUCT}</p>`,
    '</body></html>',
  ].join('');
}

/** `2026-11-24 09:05:03 UTC`. */
export function formatUtc(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function renderLoginCode({ code, validMinutes }: LoginCodeEmail): RenderedEmail {
  const minutes = `${validMinutes} minute${validMinutes === 1 ? '' : 's'}`;
  const ignore = `If you didn't ask to sign in to ${PRODUCT}, you can ignore this email: nobody can sign in without this code.`;
  return {
    subject: `Your ${PRODUCT} sign-in code`,
    text: [
      `Your ${PRODUCT} sign-in code is: ${code}`,
      '',
      `It is valid for ${minutes}. Enter it on the sign-in page to continue.`,
      '',
      ignore,
      '',
    ].join('\n'),
    html: layout(
      `Your ${PRODUCT} sign-in code`,
      [
        `<p>Your ${PRODUCT} sign-in code is:</p>`,
        `<p style="font-size: 28px; font-weight: bold; letter-spacing: 6px">${escapeHtml(code)}</p>`,
        `<p>It is valid for ${minutes}. Enter it on the sign-in page to continue.</p>`,
        `<p>${escapeHtml(ignore)}</p>`,
      ].join(''),
    ),
  };
}

export function renderSignInNotification(email: SignInNotificationEmail): RenderedEmail {
  const time = formatUtc(email.signedInAt);
  const ip = email.ip ?? 'unknown';
  const device = email.userAgent ?? 'unknown';
  const notYou = `Not you? Log out of all sessions from your account settings right away and contact ${PRODUCT} support.`;
  return {
    subject: `New sign-in to your ${PRODUCT} account`,
    text: [
      `Someone just signed in to your ${PRODUCT} account.`,
      '',
      `Time: ${time}`,
      `IP address: ${ip}`,
      `Device: ${device}`,
      '',
      'If this was you, there is nothing to do.',
      '',
      notYou,
      '',
    ].join('\n'),
    html: layout(
      `New sign-in to your ${PRODUCT} account`,
      [
        `<p>Someone just signed in to your ${PRODUCT} account.</p>`,
        '<table>',
        `<tr><td><strong>Time</strong></td><td>${escapeHtml(time)}</td></tr>`,
        `<tr><td><strong>IP address</strong></td><td>${escapeHtml(ip)}</td></tr>`,
        `<tr><td><strong>Device</strong></td><td>${escapeHtml(device)}</td></tr>`,
        '</table>',
        '<p>If this was you, there is nothing to do.</p>',
        `<p><strong>${escapeHtml(notYou)}</strong></p>`,
      ].join(''),
    ),
  };
}
