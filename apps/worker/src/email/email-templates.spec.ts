import {
  escapeHtml,
  formatUtc,
  renderLoginCode,
  renderSignInNotification,
} from './email-templates';

describe('email templates', () => {
  it('renders the login code with its validity and an ignore line, in text and HTML', () => {
    const email = renderLoginCode({ code: '042917', validMinutes: 10 });
    expect(email.subject).toBe('Your SubscriberNest sign-in code');
    expect(email.subject).not.toContain('042917');
    expect(email.text).toContain('Your SubscriberNest sign-in code is: 042917');
    expect(email.text).toContain('It is valid for 10 minutes.');
    expect(email.text).toContain("If you didn't ask to sign in to SubscriberNest, you can ignore");
    expect(email.html).toContain('>042917</p>');
    expect(email.html).toContain('valid for 10 minutes');
    expect(email.html).toContain('didn&#39;t ask to sign in');
    expect(renderLoginCode({ code: '1', validMinutes: 1 }).text).toContain('valid for 1 minute.');
  });

  it('renders the sign-in notification with UTC time, IP, user agent and a "not you?" line', () => {
    const email = renderSignInNotification({
      signedInAt: new Date('2026-11-24T09:05:03.999Z'),
      ip: '2001:db8::1',
      userAgent: '<script>alert(1)</script>',
    });
    expect(email.subject).toBe('New sign-in to your SubscriberNest account');
    expect(email.text).toContain('Time: 2026-11-24 09:05:03 UTC');
    expect(email.text).toContain('IP address: 2001:db8::1');
    expect(email.text).toContain('Device: <script>alert(1)</script>');
    expect(email.text).toContain('Not you? Log out of all sessions');
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(email.html).toContain('Not you? Log out of all sessions');
  });

  it('says "unknown" when the IP or user agent is missing', () => {
    const email = renderSignInNotification({ signedInAt: new Date(0), ip: null, userAgent: null });
    expect(email.text).toContain('IP address: unknown');
    expect(email.text).toContain('Device: unknown');
  });

  it('formats UTC and escapes HTML', () => {
    expect(formatUtc(new Date('2026-01-02T03:04:05Z'))).toBe('2026-01-02 03:04:05 UTC');
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;',
    );
  });
});
