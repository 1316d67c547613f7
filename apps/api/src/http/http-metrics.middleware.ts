import { histogramOf, METRICS } from '@subscribernest/shared';
import { IncomingMessage, ServerResponse } from 'node:http';

/** What Express adds to the request once a route matched. */
type RoutedRequest = IncomingMessage & { route?: { path?: unknown }; baseUrl?: string };

const duration = histogramOf(METRICS.httpRequestDuration);

/** `2xx` … `5xx`: the label keeps the series few. */
export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

/**
 * The route template a request matched (`/esp-connections/:id/subscribers`), never its path: ids
 * in labels would make a series per connection. Requests no route matched share one label.
 */
export function routeTemplate(request: RoutedRequest): string {
  const path = request.route?.path;
  return typeof path === 'string' ? `${request.baseUrl ?? ''}${path}` : 'unmatched';
}

/**
 * Times every request from its arrival to the moment its response is finished, whatever answered
 * it: a route, the exception filter, a guard, the body parser. Only `finish` is listened to: a
 * download adds its own `close` listeners, and one more would pass Node's limit of ten (a warning
 * on stderr); a request whose client went away before the end is not timed.
 */
export function httpMetrics(
  request: RoutedRequest,
  response: ServerResponse,
  next: () => void,
): void {
  const end = duration.startTimer();
  response.once('finish', () =>
    end({
      method: request.method ?? 'UNKNOWN',
      route: routeTemplate(request),
      status: statusClass(response.statusCode),
    }),
  );
  next();
}
