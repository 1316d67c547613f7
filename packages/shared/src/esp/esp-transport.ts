import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'undici';

/** Reads one response header, case-insensitively; `Headers` fits. */
export interface HeaderReader {
  get(name: string): string | null;
}

/** What one GET answered, whatever its status. */
export interface EspAnswer {
  status: number;
  headers: HeaderReader;
  text: string;
}

/**
 * Sends one GET and reads its whole body; rejects on a network error, and when `signal` aborts
 * (connect, headers or body). Never follows a redirect: an API that redirects answers its 3xx.
 */
export type EspTransport = (
  url: string,
  init: { headers: Record<string, string>; signal: AbortSignal },
) => Promise<EspAnswer>;

/** Node's response headers (lower-cased names; repeated ones as arrays) as a HeaderReader. */
class ResponseHeaders implements HeaderReader {
  constructor(private readonly raw: IncomingHttpHeaders) {}

  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }
}

/**
 * The ESP clients' transport: undici's `request` on its keep-alive pool. Global `fetch` runs on
 * the same undici, but builds a WHATWG Request, Response and Headers around every call: measured
 * on a sync's 100-subscriber pages, 0.64 ms a request (client and fake server together) against
 * 0.33 ms here, about 4% of a first sync and 6% of a re-sync.
 */
export const undiciTransport: EspTransport = async (url, { headers, signal }) => {
  // maxRedirections 0 (undici's default, said here): a redirect is answered, never followed
  // with the credentials.
  const response = await request(url, { method: 'GET', headers, signal, maxRedirections: 0 });
  // Reading the body (under the same signal) also returns the socket to the keep-alive pool.
  const text = await response.body.text();
  return { status: response.statusCode, headers: new ResponseHeaders(response.headers), text };
};
