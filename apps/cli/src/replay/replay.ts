import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import { connectBroker, withoutPassword } from '@svu/connections';
import { readMessage, type Format } from '@svu/dialects';
import { isoDurationMs } from '@svu/swedish-time';
import type { Directory } from '@svu/directory';
import { RecipientSimulator, type Received } from '../../../simulator/src/recipient-simulator';
import { loadUnitDirectory } from '../unit-directory';
import type { CaseResult } from './junit';
import { loadManifest, type Expectation, type Manifest, type Step } from './manifest';
import { fillPlaceholderBytes, fillPlaceholders, restorePlaceholderBytes, type RunValues } from './placeholders';
import { Progress } from './progress';
import { describeDifference, semanticDiff } from './semantic-diff';

export interface ReplayOptions {
  readonly gatewayUrl: string;
  readonly amqpUrl: string;
  readonly directoryPath: string;
  readonly topologyPrefix: string;
  /** A console user (a viewer is enough), for expectations about dead letters and fallback documents. */
  readonly username?: string;
  readonly password?: string;
  /** The bearer key of the sender system the sets are sent as over HTTP (docs/senders.md). */
  readonly senderKey?: string;
  /** Write what recipients received as the new expected files. */
  readonly record?: boolean;
  readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));

/** How long the first request waits for the gateway to answer. */
const HEALTH_TIMEOUT_MS = 5_000;

/**
 * fetch, with an error that names the URL and why it could not be reached (`connect ECONNREFUSED
 * 127.0.0.1:8080`, `no answer within 5 s`) instead of only `fetch failed`.
 */
export async function request(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = (error as Error).name === 'TimeoutError' ? `no answer within ${HEALTH_TIMEOUT_MS / 1000} s` : (cause?.message ?? cause?.code ?? (error as Error).message);
    throw new Error(`cannot reach the gateway at ${withoutPassword(url)}: ${why}`);
  }
}

/** Where `--amqp-url` comes from, as errors name it. */
const AMQP_URL_SETTING = '--amqp-url / AMQP_URL';

/** Expectations only a console user can check: dead letters and fallback documents. */
const needsConsoleUser = (manifest: Manifest) => manifest.expect.some((e) => !('message' in e));

/**
 * Why the sets cannot be checked without a console user, in one line, or undefined when they can: the
 * sets (folders) that expect dead letters or fallback documents, and what is missing.
 */
export function missingConsoleUser(dirs: readonly string[], options: Pick<ReplayOptions, 'username' | 'password'>): string | undefined {
  if (options.username !== undefined && options.password !== undefined) return undefined;
  const missing = options.username === undefined ? 'give --user (or SVU_REPLAY_USER) and its password (SVU_REPLAY_PASSWORD or --password-stdin)' : `give the password of ${options.username} (SVU_REPLAY_PASSWORD or --password-stdin)`;
  return `${dirs.join(', ')} expect${dirs.length === 1 ? 's' : ''} dead letters or fallback documents, which only a console user can check (a viewer is enough): ${missing}`;
}

/**
 * Replays fixture sets against a running gateway with simulated recipients; one result per step
 * problem and expectation. Sets that expect dead letters or fallback documents need a console user:
 * without one it stops before sending anything.
 */
export async function replay(dirs: readonly string[], options: ReplayOptions): Promise<CaseResult[]> {
  const directory = loadUnitDirectory(options.directoryPath);
  const sets = dirs.map((dir): { dir: string; manifest: Manifest } | { dir: string; error: string } => {
    try {
      return { dir, manifest: loadManifest(dir) };
    } catch (error) {
      return { dir, error: (error as Error).message };
    }
  });
  const needUser = sets.flatMap((set) => ('manifest' in set && needsConsoleUser(set.manifest) ? [set.dir] : []));
  const missingUser = needUser.length === 0 ? undefined : missingConsoleUser(needUser, options);
  if (missingUser !== undefined) throw new Error(missingUser);
  const simulator = new RecipientSimulator({ units: directory.units, amqpUrl: options.amqpUrl, amqpUrlSetting: AMQP_URL_SETTING, topologyPrefix: options.topologyPrefix });
  // RabbitMQ is connected to when a step first publishes over AMQP; an unreachable broker fails that
  // step's run within seconds, naming the URL, rather than waiting for it forever.
  let publisher: Promise<{ connection: AmqpConnectionManager; channel: ChannelWrapper }> | undefined;
  const results: CaseResult[] = [];
  try {
    // Fails at once, naming the URL, when no gateway answers there.
    await request(`${options.gatewayUrl}/health/live`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    await simulator.start();
    const token = options.username !== undefined && options.password !== undefined ? await signIn(options) : undefined;
    for (const set of sets) {
      const started = Date.now();
      if ('error' in set) {
        results.push({ suite: set.dir, name: 'manifest', seconds: 0, failure: { message: 'manifest not valid', details: set.error } });
        continue;
      }
      const { dir, manifest } = set;
      const run = new SetRun(dir, manifest, directory, simulator, options, token, async (bytes, dialect) => {
        publisher ??= connectBroker(options.amqpUrl, { setting: AMQP_URL_SETTING }).then((connection) => ({ connection, channel: connection.createChannel({ confirm: true }) }));
        const { channel } = await publisher;
        // user_id names the sender system over AMQP: the user of the connection (RabbitMQ checks it is).
        const userId = decodeURIComponent(new URL(options.amqpUrl).username) || 'guest';
        await channel.publish(`${options.topologyPrefix}.ingress`, dialect, bytes, { persistent: true, userId });
      });
      results.push(...(await run.run()));
      options.out.write(`${manifest.name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    }
  } finally {
    const open = await publisher?.catch(() => undefined);
    await open?.channel.close().catch(() => undefined);
    await open?.connection.close().catch(() => undefined);
    await simulator.stop();
  }
  return results;
}

async function signIn(options: ReplayOptions): Promise<string> {
  const res = await request(`${options.gatewayUrl}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: options.username, password: options.password }),
  });
  if (res.status !== 200) throw new Error(`could not sign in to the gateway console as ${options.username}: HTTP ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

/** One fixture set being replayed. */
class SetRun {
  private readonly values: RunValues;
  private readonly results: CaseResult[] = [];

  constructor(
    private readonly dir: string,
    private readonly manifest: Manifest,
    private readonly directory: Directory,
    private readonly simulator: RecipientSimulator,
    private readonly options: ReplayOptions,
    private readonly token: string | undefined,
    private readonly publish: (bytes: Buffer, dialect: string) => Promise<void>,
  ) {
    this.values = { run: randomBytes(4).toString('hex'), startMs: Math.floor(Date.now() / 60_000) * 60_000 };
  }

  private fail(name: string, message: string, details = message, seconds = 0): void {
    this.results.push({ suite: this.manifest.name, name, seconds, failure: { message, details } });
  }

  private pass(name: string, seconds: number): void {
    this.results.push({ suite: this.manifest.name, name, seconds });
  }

  /** A fixture file's bytes with its placeholders filled in (every other byte as in the file), and the file's own bytes. */
  private file(name: string, format: Format): { bytes: Buffer; template: Buffer } {
    const template = readFileSync(join(this.dir, name));
    return { bytes: fillPlaceholderBytes(template, format, this.values), template };
  }

  async run(): Promise<CaseResult[]> {
    for (const b of this.manifest.behaviours ?? []) this.simulator.behave(b.hsaId, toBehaviour(b));
    const progress = new Progress(this.options.out, this.manifest.steps.length + this.manifest.expect.length);
    let done = 0;
    for (const [i, step] of this.manifest.steps.entries()) {
      await this.step(step, i);
      progress.step(++done, `${this.manifest.name}: ${describeStep(step)}`);
    }
    const deadline = Date.now() + isoDurationMs(this.manifest.timeout ?? 'PT60S');
    for (const expectation of this.manifest.expect) {
      const started = Date.now();
      await this.check(expectation, deadline, started);
      progress.step(++done, `${this.manifest.name}: ${describeExpectation(expectation)}`);
    }
    progress.done();
    return this.results;
  }

  private async step(step: Step, index: number): Promise<void> {
    if ('wait' in step) {
      await sleep(isoDurationMs(step.wait));
      return;
    }
    if ('behave' in step) return this.simulator.behave(step.behave.hsaId, toBehaviour(step.behave));
    const name = `step ${index + 1}: send ${step.send}`;
    const { bytes } = this.file(step.send, step.dialect);
    if ((step.via ?? 'http') === 'amqp') {
      await this.publish(bytes, step.dialect);
      return;
    }
    const headers: Record<string, string> = this.options.senderKey === undefined ? {} : { authorization: `Bearer ${this.options.senderKey}` };
    const res = await request(`${this.options.gatewayUrl}/ingress/${step.dialect}`, { method: 'POST', body: bytes, headers });
    // A missing or refused credential fails every step alike: stop at the first, saying which and how to give it.
    if (res.status === 401 || res.status === 403) throw new Error(credentialRefused(res.status, await res.text(), `${this.manifest.name} step ${index + 1} (${step.send})`, this.options.senderKey !== undefined));
    const wanted = step.expectRejected === true ? 400 : 202;
    if (res.status !== wanted) this.fail(name, `the gateway answered ${res.status}, expected ${wanted}`, await res.text());
  }

  private async check(expectation: Expectation, deadline: number, started: number): Promise<void> {
    const name = describeExpectation(expectation);
    const seconds = () => (Date.now() - started) / 1000;
    if ('message' in expectation) {
      const unit = this.directory.lookup(expectation.recipient);
      if (unit === undefined) return this.fail(name, `${expectation.recipient} is not in the unit directory`);
      const format = unit.dialect;
      const { bytes, template } = this.file(expectation.message, format);
      const expected = readMessage(format, bytes);
      if (!expected.ok) return this.fail(name, `the expected file ${expectation.message} is not a valid ${format} message`, expected.problems.map((p) => p.message).join('\n'));
      const got = await poll(deadline, () => this.simulator.receivedBy(expectation.recipient).find((r: Received) => r.messageId === expected.value.messageId));
      if (got === undefined) return this.fail(name, `${expectation.recipient} did not receive ${expected.value.messageId}`, 'nothing received before the timeout', seconds());
      if (this.options.record === true) {
        writeFileSync(join(this.dir, expectation.message), restorePlaceholderBytes(got.bytes, template, format, this.values));
        return this.pass(`${name} (recorded)`, seconds());
      }
      const received = readMessage(format, got.bytes);
      if (!received.ok) return this.fail(name, `${expectation.recipient} received an invalid ${format} message`, received.problems.map((p) => p.message).join('\n'), seconds());
      const differences = semanticDiff(expected.value, received.value);
      if (differences.length > 0) return this.fail(name, `${differences.length} field(s) differ`, differences.map(describeDifference).join('\n'), seconds());
      return this.pass(name, seconds());
    }
    // replay() stops before sending anything when a set needs a user and none is given.
    if (this.token === undefined) return this.fail(name, 'checking dead letters and fallback documents needs a console user', 'not checked');
    const messageId = fillPlaceholders(expectation.messageId, 'canonical', this.values);
    if ('deadLetter' in expectation) {
      const found = await poll(deadline, async () => {
        const page = (await this.api(`/api/dead-letters?status=all&limit=100&q=${encodeURIComponent(messageId)}`)) as { items: Array<{ id: string; reason: string; recipientHsa: string | null }> };
        return page.items.find((d) => d.reason === expectation.deadLetter && (expectation.recipient === undefined || d.recipientHsa === expectation.recipient));
      });
      if (found === undefined) return this.fail(name, `no dead letter ${expectation.deadLetter} for ${messageId}`, 'nothing found before the timeout', seconds());
      if (expectation.problems !== undefined) {
        const detail = (await this.api(`/api/dead-letters/${found.id}`)) as { problems: Array<{ path: string }> };
        const paths = detail.problems.map((p) => p.path);
        const missing = expectation.problems.filter((p) => !paths.includes(p));
        if (missing.length > 0) return this.fail(name, `problems at ${missing.join(', ')} expected`, `reported: ${paths.join(', ') || 'none'}`, seconds());
      }
      return this.pass(name, seconds());
    }
    const found = await poll(deadline, async () => {
      const docs = ((await this.api('/api/manual-dispatch?status=all&limit=500')) as { items: Array<{ messageId: string; recipientHsa: string; kind: string }> }).items;
      return docs.find((d) => d.messageId === messageId && d.recipientHsa === expectation.recipient);
    });
    if (found === undefined) return this.fail(name, `no fallback document for ${messageId} to ${expectation.recipient}`, 'nothing found before the timeout', seconds());
    if (found.kind !== expectation.fallback) return this.fail(name, `fallback is a ${found.kind}, expected a ${expectation.fallback}`, `kind: expected ${expectation.fallback}, got ${found.kind}`, seconds());
    return this.pass(name, seconds());
  }

  private async api(path: string): Promise<unknown> {
    const res = await request(`${this.options.gatewayUrl}${path}`, { headers: { authorization: `Bearer ${this.token}` } });
    if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`);
    return res.json();
  }
}

/** The one line `svu replay` stops with when ingress answers 401 or 403: which credential, and how to give it. */
export function credentialRefused(status: 401 | 403, body: string, where: string, keyGiven: boolean): string {
  let refusal: { error?: unknown; reason?: unknown } = {};
  try {
    refusal = JSON.parse(body) as typeof refusal;
  } catch {
    // not the gateway's JSON refusal: the status says enough
  }
  const why = [refusal.reason, refusal.error].filter((s): s is string => typeof s === 'string').join(': ');
  const answered = `HTTP ${status}${why === '' ? '' : ` ${why}`}; at ${where}`;
  const how = 'set SVU_SENDER_KEY (or --sender-key) to the key of a sender system';
  if (status === 403) return `the gateway refused the sender system of the sender key (${answered}): ${how} that may send as the set's senders (its hsaIds in the gateway's senders file, SVU_SENDERS)`;
  const which = keyGiven ? 'the gateway refused the sender key' : 'no sender key was given, and the gateway requires one';
  return `${which} (${answered}): ${how} in the gateway's senders file (SVU_SENDERS)`;
}

async function poll<T>(deadline: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T | undefined> {
  for (;;) {
    const value = await probe();
    if (value !== undefined || Date.now() > deadline) return value;
    await sleep(200);
  }
}

function toBehaviour(b: { mode: string; status?: number; delayMs?: number }) {
  switch (b.mode) {
    case 'fail':
      return { mode: 'fail', status: b.status ?? 500 } as const;
    case 'timeout':
      return { mode: 'timeout' } as const;
    case 'down':
      return { mode: 'down' } as const;
    default:
      return { mode: 'accept', ...(b.delayMs === undefined ? {} : { delayMs: b.delayMs }) } as const;
  }
}

function describeStep(step: Step): string {
  if ('wait' in step) return `wait ${step.wait}`;
  if ('behave' in step) return `${step.behave.hsaId} → ${step.behave.mode}`;
  return `send ${step.send}`;
}

function describeExpectation(e: Expectation): string {
  if ('message' in e) return `${e.recipient} receives ${e.message}`;
  if ('deadLetter' in e) return `${e.messageId} dead-lettered as ${e.deadLetter}`;
  return `${e.messageId} falls back to a ${e.fallback} for ${e.recipient}`;
}
