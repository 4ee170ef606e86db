import fc from 'fast-check';
import { formatProblem, type Problem } from '@svu/canonical';
import { FORMATS, MAX_MESSAGE_BYTES, readMessage, writeMessage, type Format } from '@svu/dialects';
import { exampleBytes, MESSAGE_TYPES } from '../fixtures/contract-examples';
import { apply, mutation } from './mutations';

/**
 * Mutation fuzzing of every reader: contract examples mutated at random (bytes flipped, cut, repeated,
 * hostile tokens inserted) must never make a reader throw or hang; every refusal names field paths;
 * whatever is accepted writes and reads back to the same message.
 */
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 100_000);
const SLOW_MS = 1_000;

/** CPU milliseconds one read takes. */
function readCpuMs(format: Format, input: Buffer): number {
  // CPU time, not wall time: on a busy machine a process can wait for a core longer than any input
  // takes, and that is not what this guards against (a reader that backtracks or loops).
  const started = process.cpuUsage();
  readMessage(format, input);
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000;
}

/**
 * The least CPU time of three reads of the same input. The process's CPU time also counts a garbage
 * collection or a compilation that happens to run during one read; a reader that backtracks or loops
 * on an input is slow on every read of it.
 */
function steadyReadCpuMs(format: Format, input: Buffer): number {
  return Math.min(readCpuMs(format, input), readCpuMs(format, input), readCpuMs(format, input));
}

function checkProblems(problems: readonly Problem[]): void {
  expect(problems.length).toBeGreaterThan(0);
  for (const p of problems) {
    expect(formatProblem(p)).toMatch(/^(message|[A-Za-z]+(\[\d+\])?(\.[A-Za-z]+(\[\d+\])?)*): \S/);
  }
}

describe.each(FORMATS)('%s reader under mutation', (format: Format) => {
  const seeds = MESSAGE_TYPES.map((type) => exampleBytes(type, format));
  const slow: Buffer[] = [];

  it(`survives ${RUNS.toLocaleString('en')} mutated inputs`, () => {
    fc.assert(
      fc.property(fc.nat({ max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 6 }), (seed, mutations) => {
        const input = apply(seeds[seed]!, mutations);
        const started = process.cpuUsage();
        const result = readMessage(format, input);
        const used = process.cpuUsage(started);
        if ((used.user + used.system) / 1000 >= SLOW_MS) slow.push(input);
        if (!result.ok) {
          checkProblems(result.problems);
          return;
        }
        const again = readMessage(format, writeMessage(format, result.value));
        expect(again.ok && again.value).toEqual(result.value);
      }),
      { numRuns: RUNS },
    );
    // Slow inputs are read again: a pause that only happened to fall in their first read is not the reader's.
    for (const input of slow) expect(steadyReadCpuMs(format, input)).toBeLessThan(SLOW_MS);
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  }, 600_000);
});

describe('hostile documents', () => {
  const xml = (body: string) => Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
  const cases: Array<[string, Format, Buffer]> = [
    ['billion laughs', 'lifecare', xml('<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]><lc:SvuMessage xmlns:lc="urn:lifecare:sp:svu:2">&lol2;</lc:SvuMessage>')],
    ['external entity', 'webcare', xml('<!DOCTYPE WCMsg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><WCMsg ver="4"><HDR><ID>&xxe;</ID></HDR></WCMsg>')],
    ['deep nesting', 'lifecare', xml(`<lc:SvuMessage xmlns:lc="urn:lifecare:sp:svu:2">${'<a>'.repeat(60_000)}${'</a>'.repeat(60_000)}</lc:SvuMessage>`)],
    ['huge attribute', 'webcare', xml(`<WCMsg ver="4"><HDR><FROM hsa="${'A'.repeat(250_000)}">x</FROM></HDR></WCMsg>`)],
    ['invalid UTF-8', 'lifecare', Buffer.concat([xml('<lc:SvuMessage xmlns:lc="urn:lifecare:sp:svu:2">'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('</lc:SvuMessage>')])],
    ['byte undefined in Windows-1252', 'webcare', Buffer.concat([Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><WCMsg ver="4"><HDR><ID>'), Buffer.from([0x81]), Buffer.from('</ID></HDR></WCMsg>')])],
    ['deep JSON', 'samsa', Buffer.from(`${'['.repeat(120_000)}${']'.repeat(120_000)}`.slice(0, MAX_MESSAGE_BYTES))],
    ['deep JSON object', 'canonical', Buffer.from(`{"a":${'{"a":'.repeat(40_000)}1${'}'.repeat(40_001)}`)],
    ['prototype keys', 'canonical', Buffer.from('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},"type":"message"}')],
  ];
  it.each(cases)('%s is refused with problems, quickly', (_name, format, bytes) => {
    const result = readMessage(format, bytes);
    expect(steadyReadCpuMs(format, bytes)).toBeLessThan(SLOW_MS);
    expect(result.ok).toBe(false);
    if (!result.ok) checkProblems(result.problems);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
