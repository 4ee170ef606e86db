import fc from 'fast-check';
import { jsonSyntaxError } from './config-text';

const why = (text: string) => {
  try {
    JSON.parse(text);
  } catch (error) {
    return jsonSyntaxError(text, error);
  }
  throw new Error('parsed');
};

describe('jsonSyntaxError', () => {
  it.each([
    ['{\n  "units": [\n    { "a": 1 }\n    { "b": 2 }\n  ]\n}', "not JSON: Expected ',' or ']' after array element at line 4 column 5"],
    ['{\n  "a": 1,\n}', 'not JSON: Expected double-quoted property name at line 3 column 1'],
    ['{"a": tru}', "not JSON: Unexpected token '}' at line 1 column 10"],
    ['{"a": 1', "not JSON: Expected ',' or '}' after property value at line 1 column 8"],
    ['', 'not JSON: Unexpected end at line 1 column 1'],
    ['{"a": [1, 2]\n', "not JSON: Expected ',' or '}' after property value at line 2 column 1"],
    ['"a\nb"', 'not JSON: Bad control character in string literal at line 1 column 3'],
    ['{"a": 1}}', 'not JSON: Unexpected non-whitespace character after JSON at line 1 column 9'],
  ])('%j: %s', (text, expected) => expect(why(text)).toBe(expected));

  it('does not quote the text (a credentials file holds hashes)', () => {
    const text = '{"users": [{"passwordHash": scrypt$00aa$secret-part}]}';
    expect(why(text)).toBe("not JSON: Unexpected token 's' at line 1 column 29");
    expect(why(text)).not.toContain('secret-part');
  });

  it('places the error where JSON.parse stops, for any text that is not JSON', () => {
    fc.assert(
      fc.property(fc.json(), fc.nat(), fc.constantFrom('', '}', ']', ',', ':', '"', 'x', '\n', '\\'), (json, at, insert) => {
        const cut = at % (json.length + 1);
        const text = json.slice(0, cut) + insert + json.slice(cut);
        let position: number | undefined;
        try {
          JSON.parse(text);
          return;
        } catch (error) {
          // Node 20 gives an offset for most errors; check ours against it where it does.
          position = Number(/at position (\d+)/.exec((error as Error).message)?.[1] ?? NaN);
        }
        const message = why(text);
        expect(message).toMatch(/^not JSON: .* at line \d+ column \d+$/);
        if (!Number.isNaN(position)) {
          const before = text.slice(0, position).split('\n');
          expect(message).toContain(`at line ${before.length} column ${before[before.length - 1]!.length + 1}`);
        }
      }),
      { numRuns: 500 },
    );
  });
});
