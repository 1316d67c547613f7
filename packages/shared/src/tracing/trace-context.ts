import { randomBytes } from 'node:crypto';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` header's ids. We
 * propagate the context (api request → outbox row → event → job data → worker log lines) and
 * export no spans: tracing export is off, and there is no exporter to turn on yet.
 *
 * Why a small parser instead of `@opentelemetry/core`'s W3CTraceContextPropagator: all we need is
 * to read, validate, write and generate these ids. The current @opentelemetry/core (3.x) requires
 * Node >= 22.15 while we support Node 20.19; pinning the older major, plus @opentelemetry/api's
 * Context machinery, for the forty lines below buys nothing until spans are exported. The header
 * is the same either way, so an OpenTelemetry SDK added later reads what we write.
 *
 * Only the ids travel: `tracestate` (vendor data) is neither read nor carried.
 */
export interface TraceContext {
  /** 32 lowercase hex digits, not all zero. */
  readonly traceId: string;
  /** 16 lowercase hex digits, not all zero: the span that sent (or is) this context. */
  readonly spanId: string;
  /** `01` when the caller sampled the trace, else `00` (only the sampled bit is kept). */
  readonly flags: '00' | '01';
}

export const TRACEPARENT_HEADER = 'traceparent';

// version-traceid-parentid-flags; a future version may append `-...` fields we do not read.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ALL_ZERO = /^0+$/;

/**
 * The context a `traceparent` value names, or null when it is not a valid one: the wrong shape,
 * upper-case hex, version `ff`, a version-00 value with anything after the flags, all-zero ids,
 * more than one header (Node joins repeats with ", "), or longer than any sane value.
 */
export function parseTraceparent(value: unknown): TraceContext | null {
  if (typeof value !== 'string' || value.length > 512) return null;
  const match = TRACEPARENT.exec(value.trim());
  if (!match) return null;
  const [, version, traceId, spanId, flags, rest] = match;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null;
  if (ALL_ZERO.test(traceId) || ALL_ZERO.test(spanId)) return null;
  return { traceId, spanId, flags: (parseInt(flags, 16) & 0x01) === 1 ? '01' : '00' };
}

/** The version-00 `traceparent` value of a context. */
export function formatTraceparent(context: TraceContext): string {
  return `00-${context.traceId}-${context.spanId}-${context.flags}`;
}

function randomHex(bytes: number): string {
  for (;;) {
    const hex = randomBytes(bytes).toString('hex');
    if (!ALL_ZERO.test(hex)) return hex;
  }
}

/** A new trace (nobody upstream sampled it: flags `00`). */
export function newTraceContext(): TraceContext {
  return { traceId: randomHex(16), spanId: randomHex(8), flags: '00' };
}

/** A new span of `parent`'s trace (what a service does with the context it received). */
export function childTraceContext(parent: TraceContext): TraceContext {
  return { traceId: parent.traceId, spanId: randomHex(8), flags: parent.flags };
}
