import { Logger } from '@nestjs/common';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config/gateway-config';
import { hashPassword } from '@svu/users';
import { UsersService } from './users.service';

describe('UsersService', () => {
  const hash = hashPassword('pw');
  const file = (users: unknown[], mode: number) => {
    const path = join(mkdtempSync(join(tmpdir(), 'svu-users-spec-')), 'users.json');
    writeFileSync(path, JSON.stringify({ users }));
    chmodSync(path, mode);
    return path;
  };
  const service = (path: string) => new UsersService(loadConfig({ SVU_USERS: path, SVU_SERVICES: 'console' }));
  let warn: jest.SpyInstance;
  let error: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('warns when the file can be read by others, and not when only its owner can', () => {
    expect(service(file([{ username: 'a', role: 'viewer', passwordHash: hash }], 0o644)).load()).toBe(true);
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ mode: '644' }), expect.stringMatching(/other than the gateway; chmod 600/));
    warn.mockClear();
    expect(service(file([{ username: 'a', role: 'viewer', passwordHash: hash }], 0o600)).load()).toBe(true);
    expect(warn).not.toHaveBeenCalled();
  });

  it('stops the start of a console process when the file is missing or does not pass, in one line naming it', () => {
    const path = file([{ username: 'a', role: 'admin', passwordHash: hash }], 0o600);
    expect(() => service(path).onModuleInit()).toThrow(new Error(`console users file ${path} (SVU_USERS): users[0].role must be viewer or operator`));
    writeFileSync(path, '{"users": [\n  {"username": "a", "passwordHash": scrypt$1$2}\n]}');
    expect(() => service(path).onModuleInit()).toThrow(new Error(`console users file ${path} (SVU_USERS): not JSON: Unexpected token 's' at line 2 column 37`));
    expect(() => service(`${path}.gone`).onModuleInit()).toThrow(new Error(`console users file ${path}.gone (SVU_USERS): missing`));
    // A process without the console never reads it.
    expect(() => new UsersService(loadConfig({ SVU_USERS: `${path}.gone`, SVU_SERVICES: 'router' })).onModuleInit()).not.toThrow();
  });

  it('keeps the users in force when a changed file does not pass, and tells listeners what changed when one does', () => {
    const path = file([{ username: 'a', role: 'viewer', passwordHash: hash }], 0o600);
    const users = service(path);
    const changes: Array<[string[], string[]]> = [];
    users.onChange((before, after) => changes.push([[...before.keys()], [...after.keys()]]));
    users.load();
    writeFileSync(path, JSON.stringify({ users: [{ username: 'b', role: 'admin', passwordHash: hash }] }));
    expect(users.load()).toBe(false);
    expect(error).toHaveBeenCalledWith(expect.objectContaining({ err: expect.stringContaining('users[0].role') }), 'console users file refused; previous users kept');
    expect(users.get('a')?.role).toBe('viewer');
    writeFileSync(path, JSON.stringify({ users: [{ username: 'b', role: 'operator', passwordHash: hash }] }));
    expect(users.load()).toBe(true);
    expect(users.get('a')).toBeUndefined();
    expect(changes).toEqual([
      [[], ['a']],
      [['a'], ['b']],
    ]);
  });
});
