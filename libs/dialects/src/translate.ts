import { validateCanonical, type CanonicalMessage, type Problem, type Result } from '@svu/canonical';
import { readCanonical } from './canonical/read-canonical';
import { writeCanonical } from './canonical/write-canonical';
import { readLifecare } from './lifecare/read-lifecare';
import { writeLifecare } from './lifecare/write-lifecare';
import { readSamsa } from './samsa/read-samsa';
import { writeSamsa } from './samsa/write-samsa';
import { FORMATS, type Format } from './shared/code-tables';
import type { Draft } from './shared/draft';
import type { WireTime } from './shared/fields';
import { OFFSET_TIME, UTC_TIME, WALL_CLOCK_TIME } from './shared/times';
import { readWebcare } from './webcare/read-webcare';
import { writeWebcare } from './webcare/write-webcare';

const READERS: Readonly<Record<Format, (bytes: Uint8Array) => Draft | Problem>> = {
  lifecare: readLifecare,
  webcare: readWebcare,
  samsa: readSamsa,
  canonical: readCanonical,
};

const WRITERS: Readonly<Record<Format, (message: CanonicalMessage) => Buffer>> = {
  lifecare: writeLifecare,
  webcare: writeWebcare,
  samsa: writeSamsa,
  canonical: writeCanonical,
};

const TIMES: Readonly<Record<Format, WireTime>> = {
  lifecare: OFFSET_TIME,
  webcare: WALL_CLOCK_TIME,
  samsa: UTC_TIME,
  canonical: UTC_TIME,
};

/** How a form writes instants and dates (for tools that fill in times, such as fixture replay). */
export function timeCodecOf(format: Format): WireTime {
  return TIMES[format];
}

export function isFormat(value: string): value is Format {
  return (FORMATS as readonly string[]).includes(value);
}

/** Reads and validates a message as received (bytes) in a dialect or canonical form; every problem at once. */
export function readMessage(format: Format, bytes: Uint8Array): Result<CanonicalMessage> {
  const draft = READERS[format](bytes);
  if ('code' in draft) return { ok: false, problems: [draft] };
  return validateCanonical(draft.message, draft.problems);
}

/** The ids a message claims to have, read without validation, so that even an invalid message can be found by them. */
export function peekIds(format: Format, bytes: Uint8Array): { messageId?: string; episodeId?: string; type?: string } {
  const draft = READERS[format](bytes);
  if ('code' in draft) return {};
  const pick = (key: string) => (typeof draft.message[key] === 'string' ? (draft.message[key]) : undefined);
  const ids: { messageId?: string; episodeId?: string; type?: string } = {};
  const messageId = pick('messageId');
  const episodeId = pick('episodeId');
  const type = pick('type');
  if (messageId !== undefined) ids.messageId = messageId.slice(0, 200);
  if (episodeId !== undefined) ids.episodeId = episodeId.slice(0, 200);
  if (type !== undefined) ids.type = type;
  return ids;
}

/** Writes a valid canonical message in a dialect or canonical form, as the bytes that go on the wire. */
export function writeMessage(format: Format, message: CanonicalMessage): Buffer {
  return WRITERS[format](message);
}

/** Reads, validates and writes: the translation of docs/contract.md from one form to another. */
export function translate(from: Format, to: Format, bytes: Uint8Array): Result<Buffer> {
  const read = readMessage(from, bytes);
  return read.ok ? { ok: true, value: writeMessage(to, read.value) } : read;
}
