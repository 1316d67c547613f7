import { Injectable } from '@nestjs/common';
import {
  counterOf,
  EspType,
  FinishedRun,
  histogramOf,
  METRICS,
  SyncPass,
  SyncRunLifecycle,
} from '@subscribernest/shared';

/**
 * The sync counters and histograms, fed where a run ends, so a run is counted once however many
 * passes or workers it took: a success by SubscriberSyncService after its fenced finish, a
 * failure by the lifecycle's failing write itself, whichever path failed the run (its pass, the
 * job-failure hook, the reaper, an enqueue Redis refused).
 */
@Injectable()
export class SyncMetrics {
  private readonly runs = counterOf(METRICS.syncRuns);
  private readonly subscribers = counterOf(METRICS.syncSubscribers);
  private readonly duration = histogramOf(METRICS.syncDuration);
  private readonly rate = histogramOf(METRICS.syncRowsPerSecond);

  constructor(lifecycle: SyncRunLifecycle) {
    lifecycle.onRunFailed((esp) => this.failed(esp));
  }

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

  private failed(esp: EspType): void {
    this.runs.inc({ esp, outcome: 'failed' });
  }
}
