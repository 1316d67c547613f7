import { SchedulerRegistry } from '@nestjs/schedule';

/**
 * A task on a timer registered in the SchedulerRegistry under `name`, for the worker's intervals
 * (outbox sweep, sync reaper). Registered from onApplicationBootstrap rather than with
 * `@Interval(name, ms)`, whose ms is fixed when the class is loaded, before the configuration is
 * read; so it starts once every module is initialised. A firing is skipped while the previous one
 * still runs on this replica, and `stop()` (from beforeApplicationShutdown) deletes the timer and
 * waits for a running task before Nest closes Redis and Postgres.
 */
export class SerialInterval<T> {
  private running: Promise<T> | null = null;
  private stopped = false;

  constructor(
    private readonly schedules: SchedulerRegistry,
    readonly name: string,
    private readonly task: () => Promise<T>,
  ) {}

  /** True once `stop()` was called: a long task ends early between its steps. */
  get stopping(): boolean {
    return this.stopped;
  }

  start(intervalMs: number): void {
    const timer = setInterval(() => void this.tick(), intervalMs);
    this.schedules.addInterval(this.name, timer);
  }

  /** One firing: the task, unless it still runs on this replica or the interval stopped (null). */
  tick(): Promise<T | null> {
    if (this.stopped || this.running) return Promise.resolve(null);
    const run = this.task().finally(() => {
      this.running = null;
    });
    this.running = run;
    return run;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.schedules.doesExist('interval', this.name)) this.schedules.deleteInterval(this.name);
    if (this.running) await this.running;
  }
}
