import type { EspType } from '../../entities/esp-connection.entity';
import { METRICS } from '../../metrics/metric-catalog';
import { histogramOf } from '../../metrics/metrics';
import type { EspBudgetObserver } from './esp-rate-budget';

/**
 * Feeds `subscribernest_esp_budget_wait_seconds{esp}` (prom-client's default registry, served by
 * both services' /metrics): how long ESP calls waited in-process for their per-credential request
 * budget. Calls turned away because the wait would pass ESP_BUDGET_MAX_WAIT_MS are not in it: a
 * sync job is delayed instead, and the api answers 429.
 */
export class EspBudgetWaitMetric implements EspBudgetObserver {
  private readonly histogram = histogramOf(METRICS.espBudgetWait);

  onWait(esp: EspType, waitedMs: number): void {
    this.histogram.observe({ esp }, waitedMs / 1000);
  }
}
