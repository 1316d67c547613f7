/**
 * Mailchimp's `fields` / `exclude_fields`: comma-separated dot paths (e.g.
 * `members.id,members.status,total_items`); a path through an array applies to each element.
 */
type FieldTree = Map<string, FieldTree | true>;

function parseFields(spec: string): FieldTree {
  const tree: FieldTree = new Map();
  for (const path of spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    let node = tree;
    const parts = path.split('.');
    parts.forEach((part, i) => {
      if (i === parts.length - 1) {
        node.set(part, true);
        return;
      }
      let child = node.get(part);
      if (child === true) return;
      if (!child) {
        child = new Map();
        node.set(part, child);
      }
      node = child;
    });
  }
  return tree;
}

function include(value: unknown, tree: FieldTree): unknown {
  if (Array.isArray(value)) return value.map((item) => include(item, tree));
  if (typeof value !== 'object' || value === null) return value;
  const source = value as Record<string, unknown>;
  const picked: Record<string, unknown> = {};
  for (const [key, sub] of tree) {
    if (key in source) picked[key] = sub === true ? source[key] : include(source[key], sub);
  }
  return picked;
}

function exclude(value: unknown, tree: FieldTree): unknown {
  if (Array.isArray(value)) return value.map((item) => exclude(item, tree));
  if (typeof value !== 'object' || value === null) return value;
  const kept: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
    const sub = tree.get(key);
    if (sub === true) continue;
    kept[key] = sub ? exclude(field, sub) : field;
  }
  return kept;
}

export function projectFields(body: unknown, fields?: string, excludeFields?: string): unknown {
  let projected = body;
  if (fields) projected = include(projected, parseFields(fields));
  if (excludeFields) projected = exclude(projected, parseFields(excludeFields));
  return projected;
}

/** Whether a projection keeps anything under `key` (so the fake can skip building it). */
export function projectionKeeps(key: string, fields?: string, excludeFields?: string): boolean {
  if (fields && !parseFields(fields).has(key)) return false;
  return !(excludeFields && parseFields(excludeFields).get(key) === true);
}
