import { readFileSync } from 'node:fs';

/** `--name value` from the command line, or `fallback` when it is absent or has no value. */
export function flag(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] ? process.argv[index + 1] : fallback;
}

/** Bytes as MB, one decimal. */
export const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/** A process's peak (VmHWM) and current (VmRSS) resident memory, in MB, from /proc. */
export function rssOf(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { peak: mb(kb('VmHWM') * 1024), now: mb(kb('VmRSS') * 1024) };
}

/** Whether the bare switch `--name` is on the command line. */
export function has(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

/** `--cpu-prof <dir>`: the service process started with these node options writes a V8 CPU profile there on exit (open in Chrome DevTools). */
export function cpuProfileArgs(): string[] {
  const dir = flag('cpu-prof', '');
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

/** `--node-args "<flags>"`: extra node options for the service process (V8 heap tuning trials). */
export function extraNodeArgs(): string[] {
  return flag('node-args', '').split(/\s+/).filter(Boolean);
}
