/**
 * The id of a Stripe reference field, which the API sends as the id or, when expanded, as the
 * object itself (`customer`, `subscription`); null when the field is empty.
 */
export function stripeObjectId(value: string | { id: string } | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : value.id;
}
