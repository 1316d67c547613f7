import { CronTime } from 'cron';

const HOUR_MS = 60 * 60 * 1000;
/** The `cron` package finds no tick further than 8 years ahead either. */
const MAX_LOOKBACK_MS = 8 * 366 * 24 * HOUR_MS;

/**
 * The most recent instant at or before `at` that `expression` schedules, in `timeZone` (UTC for
 * every cron here). Computed with `cron`'s own `CronTime` (what @nestjs/schedule runs), so it agrees
 * with when `@Cron` fires. The look-back window doubles until it holds a tick, so a daily cron
 * costs a few steps and a monthly or yearly one a few more.
 */
export function previousCronTick(expression: string, at: Date, timeZone = 'UTC'): Date {
  const time = new CronTime(expression, timeZone);
  const after = (instant: Date): Date => time.getNextDateFrom(instant, timeZone).toJSDate();
  const atMs = at.getTime();
  for (let windowMs = HOUR_MS; ; windowMs *= 2) {
    let tick = after(new Date(atMs - windowMs));
    if (tick.getTime() <= atMs) {
      for (let next = after(tick); next.getTime() <= atMs; next = after(tick)) tick = next;
      return tick;
    }
    if (windowMs >= MAX_LOOKBACK_MS) {
      throw new Error(`cron "${expression}" has no tick in the 8 years before ${at.toISOString()}`);
    }
  }
}
