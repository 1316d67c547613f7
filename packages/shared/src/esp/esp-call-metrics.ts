import { ESP_TYPES, EspType } from '../entities/esp-connection.entity';
import { METRICS } from '../metrics/metric-catalog';
import { counterOf, histogramOf } from '../metrics/metrics';

/** Which kind of endpoint a path is, for a label that stays small whatever the ids in the path. */
export function endpointKind(path: string): 'subscribers' | 'lists' | 'validate' | 'other' {
  if (/\/(subscriptions|subscribers|members)\b/.test(path)) return 'subscribers';
  if (/^\/(ping|account)\b/.test(path)) return 'validate';
  if (/^\/(lists|publications)\b/.test(path)) return 'lists';
  return 'other';
}

/** `2xx`, `4xx`, `429` (its own class: the rate limits are what operators watch), `5xx`, `network`. */
export function statusLabel(status: number | 'network'): string {
  if (status === 'network') return 'network';
  if (status === 429) return '429';
  return `${Math.floor(status / 100)}xx`;
}

/**
 * The ESP call metrics, fed by EspHttpClient (every call of every client in both services goes
 * through it): each attempt by ESP, endpoint kind and status class with its duration, each
 * in-process retry, and the time slept before one.
 */
export class EspCallMetrics {
  private readonly requests = counterOf(METRICS.espRequests);
  private readonly duration = histogramOf(METRICS.espRequestDuration);
  private readonly retries = counterOf(METRICS.espRetries);
  private readonly waited = counterOf(METRICS.espInlineWait);

  constructor() {
    // Retries are rare: start each ESP's retry counters at 0, so they exist in Prometheus from the
    // first scrape (the dashboard's rate() then shows 0, not "no data", and the first retry counts
    // as an increase instead of a new series). Three ESPs: the label set stays small.
    for (const esp of ESP_TYPES) {
      this.retries.inc({ esp }, 0);
      this.waited.inc({ esp }, 0);
    }
  }

  attempt(esp: EspType, path: string, status: number | 'network', durationMs: number): void {
    const endpoint = endpointKind(path);
    this.requests.inc({ esp, endpoint, status: statusLabel(status) });
    this.duration.observe({ esp, endpoint }, durationMs / 1000);
  }

  retry(esp: EspType, waitMs: number): void {
    this.retries.inc({ esp });
    this.waited.inc({ esp }, waitMs / 1000);
  }
}
