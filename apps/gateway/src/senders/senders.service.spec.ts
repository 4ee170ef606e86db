import * as crypto from 'node:crypto';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import type { GatewayConfig } from '../config/gateway-config';
import { exposedModeOf } from '../config/file-mode';
import { SendersService } from './senders.service';

// scrypt counted: the service must run it once per key, not once per request.
jest.mock('node:crypto', () => {
  const actual = jest.requireActual<typeof crypto>('node:crypto');
  return { ...actual, scrypt: jest.fn(actual.scrypt) };
});
const scrypt = crypto.scrypt as unknown as jest.Mock;

const hash = (key: string) => {
  const salt = crypto.randomBytes(16);
  return `scrypt$${salt.toString('hex')}$${crypto.scryptSync(key, salt, 32).toString('hex')}`;
};

function sendersFile(senders: unknown[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'svu-senders-spec-')), 'senders.json');
  writeFileSync(path, JSON.stringify({ senders }), { mode: 0o600 });
  return path;
}

const config = (sendersPath: string) => ({ sendersPath, senderDefaults: { messagesPerSecond: 10, bytesPerSecond: 1_000_000 } }) as unknown as GatewayConfig;
const KEY = 'lab.the-right-key';

describe('SendersService bearer keys', () => {
  beforeEach(() => scrypt.mockClear());

  it('checks a key with scrypt once and then answers from memory, until the file changes', async () => {
    const path = sendersFile([{ id: 'lab', name: 'Lab', hsaIds: ['SE2321000131-E000000000001'], keyHash: hash(KEY) }]);
    const service = new SendersService(config(path));
    await service.load();
    expect((await Promise.all([service.byKey(KEY), service.byKey(KEY)])).map((s) => (typeof s === 'object' ? s.id : s))).toEqual(['lab', 'lab']);
    expect(await service.byKey(KEY)).toMatchObject({ id: 'lab' });
    expect(scrypt).toHaveBeenCalledTimes(1);
    expect(await service.byKey('lab.a-wrong-key')).toBeUndefined();
    expect(await service.byKey('lab.a-wrong-key')).toBeUndefined();
    expect(scrypt).toHaveBeenCalledTimes(2);
    // A key naming no system with a key costs no scrypt at all.
    expect(await service.byKey('nobody.key')).toBeUndefined();
    expect(scrypt).toHaveBeenCalledTimes(2);
    // The file changes elsewhere (another system added): the verified key is still known, no scrypt.
    const labHash = hash(KEY);
    writeFileSync(path, JSON.stringify({ senders: [
      { id: 'lab', name: 'Lab', hsaIds: ['SE2321000131-E000000000001'], keyHash: labHash },
      { id: 'other', name: 'Other', hsaIds: ['SE2321000131-E000000000002'], amqpUser: 'other' },
    ] }));
    expect(await service.load()).toBe(true);
    expect(await service.byKey(KEY)).toMatchObject({ id: 'lab' });
    expect(scrypt).toHaveBeenCalledTimes(3); // the new hash (another salt) is checked once
    expect(await service.byKey(KEY)).toMatchObject({ id: 'lab' });
    expect(scrypt).toHaveBeenCalledTimes(3);
    writeFileSync(path, JSON.stringify({ senders: [
      { id: 'lab', name: 'Lab', hsaIds: ['SE2321000131-E000000000001'], keyHash: labHash },
      { id: 'third', name: 'Third', hsaIds: ['SE2321000131-E000000000003'], amqpUser: 'third' },
    ] }));
    expect(await service.load()).toBe(true);
    expect(await service.byKey(KEY)).toMatchObject({ id: 'lab' });
    expect(scrypt).toHaveBeenCalledTimes(3); // same hash: known across the reload
    // The key is withdrawn: the file changes, and the verified key no longer counts.
    writeFileSync(path, JSON.stringify({ senders: [{ id: 'lab', name: 'Lab', hsaIds: ['SE2321000131-E000000000001'], amqpUser: 'lab' }] }));
    expect(await service.load()).toBe(true);
    expect(await service.byKey(KEY)).toBeUndefined();
    // A key that failed before counts again once its system has a new hash that matches it.
    writeFileSync(path, JSON.stringify({ senders: [{ id: 'lab', name: 'Lab', hsaIds: ['SE2321000131-E000000000001'], keyHash: hash('lab.a-wrong-key') }] }));
    expect(await service.load()).toBe(true);
    expect(await service.byKey('lab.a-wrong-key')).toMatchObject({ id: 'lab' });
  });

  it('keeps the previous file in force when a changed one does not pass', async () => {
    const path = sendersFile([{ id: 'lab', name: 'Lab', hsaIds: ['SE2321000131-E000000000001'], keyHash: hash(KEY) }]);
    const service = new SendersService(config(path));
    await service.load();
    writeFileSync(path, JSON.stringify({ senders: [{ id: 'Not An Id', hsaIds: [] }] }));
    expect(await service.load()).toBe(false);
    expect(await service.byKey(KEY)).toMatchObject({ id: 'lab' });
  });

  it('answers busy rather than checking more than 8 new keys at once', async () => {
    const path = sendersFile([{ id: 'lab', name: 'Lab', hsaIds: ['SE2321000131-E000000000001'], keyHash: hash(KEY) }]);
    const service = new SendersService(config(path));
    await service.load();
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => service.byKey(`lab.guess-${i}`)));
    expect(answers.filter((a) => a === 'busy')).toHaveLength(4);
    expect(answers.filter((a) => a === undefined)).toHaveLength(8);
  });
});

describe('SendersService at start', () => {
  beforeEach(() => jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined));
  afterEach(() => jest.restoreAllMocks());

  it('stops the start with one line naming the file and what is wrong with it', async () => {
    const path = sendersFile([]);
    writeFileSync(path, '{ "senders": [\n  { "id": "lab", }\n] }');
    await expect(new SendersService(config(path)).start()).rejects.toThrow(new Error(`senders file ${path} (SVU_SENDERS): not JSON: Expected double-quoted property name at line 2 column 18`));
    writeFileSync(path, JSON.stringify({ senders: [{ id: 'lab', name: 'Lab', hsaIds: ['SE2321000131-E000000000001'] }] }));
    await expect(new SendersService(config(path)).start()).rejects.toThrow(new Error(`senders file ${path} (SVU_SENDERS): senders[0]: needs a credential: keyHash, certificateSubject, certificateFingerprint, amqpUser`));
    await expect(new SendersService(config(`${path}.gone`)).start()).rejects.toThrow(new Error(`senders file ${path}.gone (SVU_SENDERS): missing`));
  });
});

describe('SendersService in a process without ingress (a console alone)', () => {
  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('starts without the file, says why none is in force, and takes one that comes later', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'svu-senders-spec-')), 'senders.json');
    const service = new SendersService(config(path));
    await expect(service.start(false)).resolves.toBeUndefined();
    expect(service.unavailable).toBe(`senders file ${path} (SVU_SENDERS): missing`);
    writeFileSync(path, '{ "senders": [ }');
    expect(await service.load()).toBe(false);
    expect(service.unavailable).toMatch(/^senders file \S+ \(SVU_SENDERS\): not JSON: /);
    writeFileSync(path, JSON.stringify({ senders: [{ id: 'lab', name: 'Lab', hsaIds: ['SE2321000131-E000000000001'], amqpUser: 'lab' }] }));
    expect(await service.load()).toBe(true);
    expect(service.unavailable).toBeUndefined();
    expect(service.byAmqpUser('lab')?.id).toBe('lab');
    service.onModuleDestroy();
  });

  it('starts with a folder that is not there either', async () => {
    const service = new SendersService(config(join(tmpdir(), 'svu-no-such-folder', 'senders.json')));
    await expect(service.start(false)).resolves.toBeUndefined();
    expect(service.unavailable).toMatch(/: missing$/);
  });
});

describe('exposedModeOf', () => {
  it('tells a file its group or every user may read from one only its owner may', () => {
    const path = sendersFile([]);
    chmodSync(path, 0o600);
    expect(exposedModeOf(path)).toBeUndefined();
    chmodSync(path, 0o640);
    expect(exposedModeOf(path)?.mode).toBe('640');
    chmodSync(path, 0o644);
    expect(exposedModeOf(path)).toEqual({ mode: '644', advice: 'chmod 600 it' });
  });
});
