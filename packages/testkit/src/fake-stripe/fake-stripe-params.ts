import { parse, ParsedQs } from 'qs';

/** Stripe's error body: `{ error: { type, message, code?, param? } }`. */
export interface StripeErrorDetail {
  type: string;
  message: string;
  code?: string;
  param?: string;
  doc_url?: string;
}

/**
 * A Stripe-shaped error answer. `stored` says whether an idempotent request keeps it under its key:
 * Stripe stores what an endpoint answered once it began executing, but not parameter validation
 * failures (those are retried with the same key after fixing the parameters).
 */
export class FakeStripeError extends Error {
  constructor(
    readonly status: number,
    readonly detail: StripeErrorDetail,
    readonly stored = true,
  ) {
    super(detail.message);
  }
}

export type FormParams = ParsedQs;
type FormValue = FormParams[string];

/** A form-encoded body or query string as Stripe's clients send it (`a[b]=c`, `a[0][b]=c`). */
export function parseForm(text: string): FormParams {
  return parse(text, { arrayLimit: 100, depth: 6, parameterLimit: 5_000 });
}

export function invalidParam(param: string, message: string, code?: string): FakeStripeError {
  return new FakeStripeError(
    400,
    {
      type: 'invalid_request_error',
      message,
      param,
      ...(code
        ? { code, doc_url: `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}` }
        : {}),
    },
    false,
  );
}

export function missingParam(param: string): FakeStripeError {
  return invalidParam(param, `Missing required param: ${param}.`, 'parameter_missing');
}

/** `No such customer: 'cus_x'` (404 for the resource in the path, 400 for one named in a param). */
export function noSuch(kind: string, id: string, param = 'id', status = 404): FakeStripeError {
  return new FakeStripeError(status, {
    type: 'invalid_request_error',
    code: 'resource_missing',
    doc_url: 'https://stripe.com/docs/error-codes/resource-missing',
    message: `No such ${kind}: '${id}'`,
    param,
  });
}

function describe(value: FormValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function isObject(value: FormValue): value is FormParams {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function optionalString(params: FormParams, name: string, path = name): string | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidParam(path, `Invalid string: ${describe(value)}`);
  return value;
}

export function requiredString(params: FormParams, name: string, path = name): string {
  const value = optionalString(params, name, path);
  if (value === undefined || value === '') throw missingParam(path);
  return value;
}

export function optionalBoolean(
  params: FormParams,
  name: string,
  path = name,
): boolean | undefined {
  const value = optionalString(params, name, path);
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw invalidParam(path, `Invalid boolean: ${value}`);
}

export function optionalInteger(params: FormParams, name: string, path = name): number | undefined {
  const value = optionalString(params, name, path);
  if (value === undefined || value === '') return undefined;
  if (!/^-?\d+$/.test(value)) {
    throw invalidParam(path, `Invalid integer: ${value}`, 'parameter_invalid_integer');
  }
  return Number(value);
}

/** A nested object parameter (`name[key]=...`); '' (Stripe's "unset") reads as undefined. */
export function optionalObject(
  params: FormParams,
  name: string,
  path = name,
): FormParams | undefined {
  const value = params[name];
  if (value === undefined || value === '') return undefined;
  if (!isObject(value)) throw invalidParam(path, `Invalid object: ${describe(value)}`);
  return value;
}

/** An array parameter (`name[0]=...`), of objects or strings as `element` reads them. */
export function optionalArray<T>(
  params: FormParams,
  name: string,
  element: (value: FormValue, path: string) => T,
): T[] | undefined {
  const value = params[name];
  if (value === undefined || value === '') return undefined;
  // qs turns indices above its array limit into object keys; Stripe's order is the index order.
  const items: FormValue[] = Array.isArray(value)
    ? value
    : isObject(value) && Object.keys(value).every((key) => /^\d+$/.test(key))
      ? Object.keys(value)
          .sort((a, b) => Number(a) - Number(b))
          .map((key) => value[key])
      : [];
  if (items.length === 0) throw invalidParam(name, `Invalid array: ${describe(value)}`);
  return items.map((item, index) => element(item, `${name}[${index}]`));
}

export function objectElement(value: FormValue, path: string): FormParams {
  if (!isObject(value)) throw invalidParam(path, `Invalid object: ${describe(value)}`);
  return value;
}

export function stringElement(value: FormValue, path: string): string {
  if (typeof value !== 'string') throw invalidParam(path, `Invalid string: ${describe(value)}`);
  return value;
}

/** `expand[0]=a&expand[1]=b` (or `expand[]=a`). */
export function expandList(params: FormParams): string[] {
  return optionalArray(params, 'expand', stringElement) ?? [];
}

/** A string-to-string map such as `payload`. */
export function stringMap(params: FormParams, name: string): Record<string, string> | undefined {
  const value = optionalObject(params, name);
  if (!value) return undefined;
  const map: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    map[key] = stringElement(entry, `${name}[${key}]`);
  }
  return map;
}

/**
 * Metadata as Stripe validates it (at most 50 keys, keys up to 40 characters, values up to 500).
 * undefined when absent; `metadata=` (clear everything) reads as null; a key set to '' is kept as
 * '' for the caller to delete.
 */
export function metadataParam(
  params: FormParams,
  name = 'metadata',
): Record<string, string> | null | undefined {
  if (params[name] === '') return null;
  const map = stringMap(params, name);
  if (!map) return undefined;
  const keys = Object.keys(map);
  if (keys.length > 50) {
    throw invalidParam(name, 'You can specify up to 50 keys in metadata.');
  }
  for (const key of keys) {
    if (key.length > 40) {
      throw invalidParam(
        `${name}[${key}]`,
        `Metadata keys can have up to 40 characters; ${key} has ${key.length}.`,
      );
    }
    if (map[key].length > 500) {
      throw invalidParam(`${name}[${key}]`, 'Metadata values can have up to 500 characters.');
    }
  }
  return map;
}

/** Applies a metadata parameter the way Stripe updates do: '' deletes a key, null clears all. */
export function mergeMetadata(
  current: Record<string, string>,
  update: Record<string, string> | null | undefined,
): Record<string, string> {
  if (update === undefined) return current;
  if (update === null) return {};
  const merged = { ...current };
  for (const [key, value] of Object.entries(update)) {
    if (value === '') delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

/** Parameters in a canonical form (sorted keys), to compare two uses of an idempotency key. */
export function fingerprint(value: FormValue): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(fingerprint).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${fingerprint(value[key])}`).join(',')}}`;
}
