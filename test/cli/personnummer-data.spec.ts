import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Format } from '@svu/dialects';
import {
  ALL_PINS,
  ID_TYPE_OF,
  LIST_CASES,
  SENT_2026,
  WRONG_FORM,
  identityMessage,
  momentsAround100,
  wireId,
  type IdType,
  type SendingMoment,
} from '../fixtures/personnummer';

/**
 * The personnummer project's shared test data (test/fixtures/personnummer) through the built
 * `svu validate`, for a sample of 32 messages in every format: each run is a process of its own (about
 * a second of CPU), so the full data goes through the readers in libs/ instead
 * (libs/dialects/src/personnummer-data.spec.ts).
 */
const SVU = join(__dirname, '../../dist/apps/cli/src/main.js');
const FORMATS: readonly Format[] = ['lifecare', 'webcare', 'samsa', 'canonical'];
const PARALLEL = 4;

interface Run {
  readonly label: string;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `svu validate --dialect <format>` with the message on standard input. */
function validate(label: string, format: Format, bytes: Buffer): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SVU, 'validate', '--dialect', format], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ label, code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
    child.stdin.end(bytes);
  });
}

interface Job {
  readonly label: string;
  readonly format: Format;
  readonly idType: IdType;
  readonly id: string;
  readonly moment: SendingMoment;
  /** Accepted (silent, exit 0); refused with problems at patient.id only; or refused with exactly these lines. */
  readonly want: 'valid' | 'refused at patient.id' | { readonly stderr: string };
}

/** Whether a run ended as its job expects. */
function asExpected(job: Job, run: Run): boolean {
  if (job.want === 'valid') return run.code === 0 && run.stdout === '' && run.stderr === '';
  if (run.code !== 2 || run.stdout !== '') return false;
  if (job.want === 'refused at patient.id') return /^(patient\.id: [^\n]+\n)+$/.test(run.stderr);
  return run.stderr === job.want.stderr;
}

/** Runs the jobs a few processes at a time, in order of the jobs. */
async function runAll(jobs: readonly Job[]): Promise<Run[]> {
  const runs: Run[] = new Array<Run>(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      const job = jobs[i]!;
      runs[i] = await validate(job.label, job.format, identityMessage(job.format, job.idType, job.id, job.moment));
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return runs;
}

beforeAll(() => {
  if (!existsSync(SVU)) throw new Error(`${SVU} is missing: run npm run build first`);
});

describe('svu validate on the personnummer test data', () => {
  it('accepts a sample of allPins.json in every format, webcare with - or + by the year of sending', async () => {
    // The first, a middle and the last number, each at the three moments around its 100th year in turn.
    const picks = [0, 20_000, ALL_PINS.length - 1];
    const jobs = picks.flatMap((index, p) => {
      const id = ALL_PINS[index]!;
      return FORMATS.map((format, f): Job => {
        const moment = momentsAround100(Number(id.slice(0, 4)))[(p + f) % 3]!;
        const wire = wireId(format, id, moment.swedishYear);
        return { label: `${format} ${wire} sent in ${moment.swedishYear}`, format, idType: 'personnummer', id: wire, moment, want: 'valid' };
      });
    });
    expect(new Set(jobs.filter((j) => j.format === 'webcare').map((j) => j.id[6]))).toEqual(new Set(['-', '+']));
    const runs = await runAll(jobs);
    expect(runs.filter((run, i) => !asExpected(jobs[i]!, run))).toEqual([]);
  }, 240_000);

  it('accepts or refuses each case of list.json as the data says, every format taking a share; 201509160006 and the space in all', async () => {
    const unissued = LIST_CASES.find((c) => c.long_format === '201509160006')!;
    const spaced = LIST_CASES.find((c) => c.long_format.includes(' '))!;
    const jobs: Job[] = [];
    LIST_CASES.filter((c) => c !== unissued && c !== spaced).forEach((c, i) => {
      const format = FORMATS[i % FORMATS.length]!;
      const want = c.valid ? 'valid' : 'refused at patient.id';
      jobs.push({ label: `${format} ${c.long_format}`, format, idType: ID_TYPE_OF[c.type], id: wireId(format, c.long_format, 2026), moment: SENT_2026, want });
    });
    for (const format of FORMATS) {
      const id = wireId(format, unissued.long_format, 2026);
      jobs.push({ label: `${format} ${id}`, format, idType: 'personnummer', id, moment: SENT_2026, want: { stderr: 'patient.id: birth number 000 is never issued\n' } });
      // The space is no separator in any format: refused as a form the format does not carry.
      const spacedForm = { canonical: spaced.long_format, samsa: spaced.long_format, lifecare: spaced.separated_long, webcare: spaced.separated_format }[format];
      jobs.push({ label: `${format} ${spacedForm}`, format, idType: 'personnummer', id: spacedForm, moment: SENT_2026, want: { stderr: `${WRONG_FORM[format]}\n` } });
    }
    expect(jobs).toHaveLength(20);
    const runs = await runAll(jobs);
    expect(runs.filter((run, i) => !asExpected(jobs[i]!, run))).toEqual([]);
    // Both of the data's verdicts are in the rotated share.
    expect(jobs.slice(0, 12).map((j) => j.want)).toEqual(expect.arrayContaining(['valid', 'refused at patient.id']));
  }, 240_000);
});
