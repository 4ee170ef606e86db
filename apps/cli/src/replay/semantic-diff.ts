/** One difference between an expected and a received canonical message. */
export interface FieldDifference {
  readonly path: string;
  readonly expected: unknown;
  readonly received: unknown;
}

function flatten(value: unknown, path: string, out: Map<string, unknown>): void {
  if (Array.isArray(value)) {
    if (value.length === 0) out.set(path, []);
    value.forEach((item, i) => flatten(item, `${path}[${i}]`, out));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, member] of Object.entries(value)) flatten(member, path === '' ? key : `${path}.${key}`, out);
  } else {
    out.set(path, value);
  }
}

/** Field-by-field differences of two canonical messages, by canonical field path. */
export function semanticDiff(expected: unknown, received: unknown): FieldDifference[] {
  const a = new Map<string, unknown>();
  const b = new Map<string, unknown>();
  flatten(expected, '', a);
  flatten(received, '', b);
  const paths = [...new Set([...a.keys(), ...b.keys()])];
  return paths.filter((p) => JSON.stringify(a.get(p)) !== JSON.stringify(b.get(p))).map((path) => ({ path, expected: a.get(path), received: b.get(path) }));
}

const show = (value: unknown) => (value === undefined ? '(absent)' : typeof value === 'string' ? value : JSON.stringify(value));

/** `body.estimatedDischargeDate: expected 2026-04-02, got 2026-04-03` */
export function describeDifference(d: FieldDifference): string {
  return `${d.path}: expected ${show(d.expected)}, got ${show(d.received)}`;
}
