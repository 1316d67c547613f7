import { Counter, Gauge, Histogram, register } from 'prom-client';
import { MetricDefinition } from './metric-catalog';

/**
 * The prom-client metric of a catalog entry, in the default registry (the one both services'
 * `/metrics` serve). Created on first use and shared after: several Nest apps in one process (the
 * tests) and several providers of one app all count into the same series.
 */
export function counterOf(definition: MetricDefinition): Counter {
  return existing<Counter>(definition) ?? new Counter(configOf(definition));
}

export function gaugeOf(definition: MetricDefinition): Gauge {
  return existing<Gauge>(definition) ?? new Gauge(configOf(definition));
}

export function histogramOf(definition: MetricDefinition): Histogram {
  return (
    existing<Histogram>(definition) ??
    new Histogram({ ...configOf(definition), buckets: definition.buckets })
  );
}

function existing<T>(definition: MetricDefinition): T | undefined {
  return register.getSingleMetric(definition.name) as T | undefined;
}

function configOf(definition: MetricDefinition) {
  return {
    name: definition.name,
    help: definition.help,
    labelNames: [...definition.labelNames],
  };
}
