import { Injectable } from '@nestjs/common';
import { counterOf, FinishedRun, histogramOf, METRICS, SyncPass } from '@subscribernest/shared';

/**
 * The sync counters and histograms, fed by SubscriberSyncService where a run ends (succeeded:
 * after its fenced finish; failed: once its failure is recorded), so a run is counted once
 * however many passes or workers it took.
 */
@Injectable()
export class SyncMetrics {
  private readonly runs = counterOf(METRICS.syncRuns);
  private readonly subscribers = counterOf(METRICS.syncSubscribers);
  private readonly duration = histogramOf(METRICS.syncDuration);
  private readonly rate = histogramOf(METRICS.syncRowsPerSecond);

  succeeded(pass: SyncPass, counts: FinishedRun, now = Date.now()): void {
    const esp = pass.connection.espType;
    this.runs.inc({ esp, outcome: 'success' });
    const unchanged = Math.max(0, counts.subscriberCount - counts.created - counts.updated);
    this.subscribers.inc({ esp, change: 'created' }, counts.created);
    this.subscribers.inc({ esp, change: 'updated' }, counts.updated);
    this.subscribers.inc({ esp, change: 'removed' }, counts.removed);
    this.subscribers.inc({ esp, change: 'unchanged' }, unchanged);
    const seconds = Math.max(0.001, (now - pass.startedAt.getTime()) / 1000);
    this.duration.observe({ esp }, seconds);
    this.rate.observe({ esp }, counts.subscriberCount / seconds);
  }

  failed(pass: SyncPass): void {
    this.runs.inc({ esp: pass.connection.espType, outcome: 'failed' });
  }
}
