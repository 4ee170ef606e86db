import fc from 'fast-check';

/** Mutations of valid messages for fuzzing: bytes flipped, cut, repeated, hostile tokens inserted. */
const TOKENS = [
  '<', '>', '&', '&amp;', '&#0;', '&#x110000;', '&#xD800;', '&lol;', '<!DOCTYPE x [<!ENTITY a "b">]>', '<![CDATA[', ']]>', '<!--', '-->',
  '<?xml version="1.0"?>', 'xmlns="urn:other"', 'xmlns:lc="urn:x"', '"', "'", '=', '/>', '</', '\u0000', '\u0001', '\r\n', '\uFFFE', '😀', 'Đ',
  '{', '}', '[', ']', ':', ',', '"__proto__":{"x":1},', '"constructor":{"prototype":{"x":1}},', 'null', 'true', '1e999', '-0', '""',
  '2026-02-29', '2026-03-29T02:30:00+01:00', '202610250230', '19410708-6994', '410708+6995', 'KIRURGI', '9'.repeat(40),
];

export type Mutation =
  | { kind: 'flip'; at: number; byte: number }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'repeat'; at: number; length: number; times: number }
  | { kind: 'insert'; at: number; token: string }
  | { kind: 'truncate'; at: number };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 60 }), times: fc.integer({ min: 1, max: 50 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), token: fc.constantFrom(...TOKENS) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

export function apply(bytes: Buffer, mutations: readonly Mutation[]): Buffer {
  let out = bytes;
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % out.length;
    switch (m.kind) {
      case 'flip':
        out = Buffer.from(out);
        if (out.length > 0) out[at] = m.byte;
        break;
      case 'delete':
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + m.length)]);
        break;
      case 'repeat': {
        const piece = out.subarray(at, at + m.length);
        out = Buffer.concat([out.subarray(0, at), ...Array.from({ length: m.times }, () => piece), out.subarray(at)]);
        break;
      }
      case 'insert':
        out = Buffer.concat([out.subarray(0, at), Buffer.from(m.token, 'utf8'), out.subarray(at)]);
        break;
      case 'truncate':
        out = out.subarray(0, at);
        break;
    }
  }
  return out;
}

