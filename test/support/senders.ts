import { randomBytes, scryptSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import type { SenderSystem } from '@svu/directory';

/**
 * The sender system of tests, benchmarks and tools (docs/senders.md): one bearer key, the RabbitMQ
 * user guest, and every HSA id a test sends as. For tests only; its key is public.
 */
export const TEST_SENDER_ID = 'test-system';
export const TEST_SENDER_KEY = `${TEST_SENDER_ID}.key-for-tests-only-0f3c9a7e51d2b486`;

/** A bearer key's hash as `svu hash-password` writes it (scrypt with node's defaults). */
export function hashKey(key: string): string {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('hex')}$${scryptSync(key, salt, 32).toString('hex')}`;
}

let testKeyHash: string | undefined;
let fixtureHsaIds: string[] | undefined;

/** This file runs from the sources (tests) or from dist/ (benchmarks); the repository root either way. */
const ROOT = join(__dirname, __dirname.includes(`${sep}dist${sep}`) ? '../../..' : '../..');

/** Every HSA id in the contract examples and fixture sets: the senders tests use. */
function hsaIdsOfFixtures(): string[] {
  if (fixtureHsaIds !== undefined) return fixtureHsaIds;
  const found = new Set<string>();
  const scan = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) scan(path);
      else for (const match of readFileSync(path, 'latin1').matchAll(/SE[0-9]{10}-[A-Z0-9]{1,31}/g)) found.add(match[0]);
    }
  };
  scan(join(ROOT, 'test/fixtures/contract-examples'));
  scan(join(ROOT, 'fixtures'));
  fixtureHsaIds = [...found].sort();
  return fixtureHsaIds;
}

/** The test sender system, allowed to send as the given HSA ids and those of the fixtures. */
export function testSender(hsaIds: readonly string[] = []): SenderSystem {
  testKeyHash ??= hashKey(TEST_SENDER_KEY);
  return { id: TEST_SENDER_ID, name: 'Tests', hsaIds: [...new Set([...hsaIds, ...hsaIdsOfFixtures()])], keyHash: testKeyHash, amqpUser: 'guest' };
}

/** Writes a senders file (readable by its owner only, as a real one should be) and returns its path. */
export function writeSenders(senders: readonly SenderSystem[], dir = mkdtempSync(join(tmpdir(), 'svu-senders-'))): string {
  const path = join(dir, 'senders.json');
  writeFileSync(path, JSON.stringify({ senders }, null, 2), { mode: 0o600 });
  return path;
}

/** A senders file with the test sender, allowed to send as every unit of the directory at `directoryPath`. */
export function writeTestSenders(directoryPath: string): string {
  let units: Array<{ hsaId: string }> = [];
  try {
    units = (JSON.parse(readFileSync(directoryPath, 'utf8')) as { units?: Array<{ hsaId: string }> }).units ?? [];
  } catch {
    // A directory that is not valid JSON (a test of a broken file): the fixtures' ids only.
  }
  return writeSenders([testSender(units.map((u) => u.hsaId))]);
}
