/**
 * Refusals of configuration files (the unit directory, senders, users, report rules, fallback
 * delays), each one line that says what is wrong and where: the file cannot be read, is not JSON (at
 * a line and column), or has fields that do not pass.
 */

/** Why a file could not be read: `missing`, `not readable by this process (permission denied)`, …. */
export function fileReadError(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  if (code === 'ENOENT') return 'missing';
  if (code === 'EACCES' || code === 'EPERM') return 'not readable by this process (permission denied)';
  if (code === 'EISDIR') return 'is a folder, not a file';
  return message;
}

/** A file's problems (each `field: what is wrong`) as one line: the first few, and how many more. */
export function problemsLine(lines: readonly string[], most = 5): string {
  const shown = lines.slice(0, most).join('; ');
  return lines.length > most ? `${shown}; and ${lines.length - most} more` : shown;
}

/**
 * Why a text is not JSON, and where, for a refusal of a configuration file:
 * `not JSON: Expected ',' or '}' after property value at line 3 column 5`. JSON.parse's own message
 * gives an offset at most (none for an unexpected token) and may quote the text, which in a
 * credentials file holds hashes: its reason is kept without the quote, and the place is found by
 * reading the text again up to the first character that cannot continue it.
 */
export function jsonSyntaxError(text: string, error: unknown): string {
  const reason = String((error as Error | undefined)?.message ?? error)
    .replace(/, .* is not valid JSON$/s, '')
    .replace(/ at position \d+.*$/s, '')
    .replace(/ in JSON$/, '')
    .replace(/ of JSON input$/, '');
  // An unexpected token may be a line break or another control character: the refusal stays one line.
  const oneLine = [...reason].map((c) => (c < ' ' ? JSON.stringify(c).slice(1, -1) : c)).join('');
  const offset = firstErrorOffset(text);
  if (offset === undefined) return `not JSON: ${oneLine}`;
  const { line, column } = lineAndColumn(text, offset);
  return `not JSON: ${oneLine} at line ${line} column ${column}`;
}

/** Line and column (from 1) of an offset of the text. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}

/** Where the text stops being JSON. */
class StopsAt extends Error {
  constructor(readonly offset: number) {
    super(`not JSON from offset ${offset}`);
  }
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const DIGITS = '0123456789';
const HEX = '0123456789abcdefABCDEF';

/**
 * The offset of the first character where the text stops being JSON (RFC 8259), its length when it
 * ends too early; undefined when it nests too deep to follow.
 */
function firstErrorOffset(text: string): number | undefined {
  let i = 0;
  const fail = (): never => {
    throw new StopsAt(i);
  };
  const space = () => {
    while (i < text.length && WHITESPACE.has(text[i]!)) i += 1;
  };
  const expect = (c: string) => {
    if (text[i] !== c) fail();
    i += 1;
  };
  /** One character of `set`. */
  const expectOne = (set: string) => {
    const c = text[i];
    if (c === undefined || !set.includes(c)) fail();
    i += 1;
  };
  const digits = () => {
    expectOne(DIGITS);
    while (i < text.length && DIGITS.includes(text[i]!)) i += 1;
  };
  const number = () => {
    if (text[i] === '-') i += 1;
    if (text[i] === '0') i += 1;
    else digits();
    if (text[i] === '.') {
      i += 1;
      digits();
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i += 1;
      if (text[i] === '+' || text[i] === '-') i += 1;
      digits();
    }
  };
  const string = () => {
    expect('"');
    for (;;) {
      const c = text[i];
      if (c === undefined || c < ' ') fail();
      if (c === '"') break;
      i += 1;
      if (c === '\\') {
        if (text[i] === 'u') {
          i += 1;
          for (let n = 0; n < 4; n += 1) expectOne(HEX);
        } else expectOne('"\\/bfnrt');
      }
    }
    i += 1;
  };
  const list = <T>(open: string, close: string, item: () => T) => {
    expect(open);
    space();
    if (text[i] === close) {
      i += 1;
      return;
    }
    for (;;) {
      item();
      space();
      if (text[i] === close) {
        i += 1;
        return;
      }
      expect(',');
    }
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === '{') {
      return list('{', '}', () => {
        space();
        string();
        space();
        expect(':');
        value();
      });
    }
    if (c === '[') return list('[', ']', value);
    if (c === '"') return string();
    if (c === '-' || (c !== undefined && DIGITS.includes(c))) return number();
    for (const literal of ['true', 'false', 'null']) {
      if (c !== literal[0]) continue;
      for (const expected of literal) expect(expected);
      return;
    }
    fail();
  };
  try {
    value();
    space();
    if (i < text.length) fail();
  } catch (error) {
    return error instanceof StopsAt ? error.offset : undefined;
  }
  return undefined;
}
