import { timeCodecOf, type Format } from '@svu/dialects';
import { epochToInstant, isoDurationMs, swedishDate } from '@svu/swedish-time';

const PLACEHOLDER = /\{\{\s*(run|time|date)\s*(?:([+-])\s*(P[0-9A-Z.]+))?\s*\}\}/g;

/** What placeholders stand for in one run: the run id and the moment the run started (whole minutes). */
export interface RunValues {
  readonly run: string;
  readonly startMs: number;
}

function shifted(start: number, sign: string | undefined, duration: string | undefined): number {
  if (duration === undefined) return start;
  const ms = isoDurationMs(duration);
  return start + (sign === '-' ? -ms : ms);
}

/**
 * Fills in a fixture file: {{run}} with the run id, {{time±P…}} with an instant and {{date±P…}} with
 * a Swedish date relative to the start of the run, each written as the file's dialect writes it.
 */
export function fillPlaceholders(text: string, format: Format, values: RunValues): string {
  const codec = timeCodecOf(format);
  return text.replace(PLACEHOLDER, (_whole, kind: string, sign: string | undefined, duration: string | undefined) => {
    if (kind === 'run') return values.run;
    const instant = epochToInstant(shifted(values.startMs, sign, duration));
    return kind === 'time' ? codec.writeInstant(instant) : codec.writeDate(swedishDate(instant));
  });
}

/**
 * The reverse, for `--record`: puts the placeholders of `template` back where a received text holds
 * the values they stood for. Only placeholders that occur in the template are put back.
 */
export function restorePlaceholders(received: string, template: string, format: Format, values: RunValues): string {
  let out = received;
  const seen = new Set<string>();
  for (const match of template.matchAll(PLACEHOLDER)) {
    const placeholder = match[0];
    if (seen.has(placeholder)) continue;
    seen.add(placeholder);
    const value = fillPlaceholders(placeholder, format, values);
    out = out.split(value).join(placeholder);
  }
  return out;
}

// A fixture file's bytes are changed only where a placeholder stands, and every other byte is kept as
// it is (a file of bytes its dialect's reader refuses is sent with those bytes). Placeholders and the
// values they stand for are ASCII, which every form's encoding writes as the same bytes, so the bytes
// are viewed one to one as latin-1 characters: no text is read in the file's own encoding here.
const bytesAsText = (bytes: Buffer) => bytes.toString('latin1');
const textAsBytes = (text: string) => Buffer.from(text, 'latin1');

/** `fillPlaceholders` on a fixture file's bytes, every other byte unchanged. */
export function fillPlaceholderBytes(bytes: Buffer, format: Format, values: RunValues): Buffer {
  return textAsBytes(fillPlaceholders(bytesAsText(bytes), format, values));
}

/** `restorePlaceholders` on received bytes (for `--record`), every other byte unchanged. */
export function restorePlaceholderBytes(received: Buffer, template: Buffer, format: Format, values: RunValues): Buffer {
  return textAsBytes(restorePlaceholders(bytesAsText(received), bytesAsText(template), format, values));
}
