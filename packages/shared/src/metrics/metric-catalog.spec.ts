import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRICS } from './metric-catalog';

const README = readFileSync(join(__dirname, '../../../../README.md'), 'utf8');

describe('the metric catalog', () => {
  const metrics = Object.values(METRICS);

  it('names every metric once, with our prefix and Prometheus naming', () => {
    const names = metrics.map((metric) => metric.name);
    expect(new Set(names).size).toBe(names.length);
    for (const metric of metrics) {
      expect(metric.name).toMatch(/^subscribernest_[a-z0-9_]+$/);
      if (metric.type === 'counter') expect(metric.name).toMatch(/_total$/);
      if (metric.type === 'histogram') expect(metric.name).not.toMatch(/_total$/);
    }
  });

  it('never labels by an id (a user, connection or job would make a series each)', () => {
    for (const metric of metrics) {
      for (const label of metric.labelNames) expect(label).not.toMatch(/id$/i);
    }
  });

  it('is documented in the README, metric by metric', () => {
    // A row of the README's table (prettier pads the cells).
    const undocumented = metrics.filter(
      (metric) => !new RegExp(`^\\| \`${metric.name}\`\\s+\\|`, 'm').test(README),
    );
    expect(undocumented.map((metric) => metric.name)).toEqual([]);
  });
});
