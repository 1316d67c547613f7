/**
 * What every benchmark ends with: its figures as text (a table) and, with `--json`, the same
 * figures as one JSON object on the last line of stdout, for a script to read.
 */
import { has } from './bench-args';

/** Whether `--json` was given: the last line printed is then the figures as one JSON object. */
export const jsonWanted = (): boolean => has('json');

/**
 * Prints `figures` as one line of JSON when `json` is on; nothing otherwise. Call it last, after
 * the text output, so the JSON is the last line.
 */
export function report(figures: Record<string, unknown>, json = jsonWanted()): void {
  if (json) process.stdout.write(`${JSON.stringify(figures)}\n`);
}

/**
 * An aligned text table: the first column left-aligned, the others right-aligned, each as wide
 * as its widest cell.
 */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
