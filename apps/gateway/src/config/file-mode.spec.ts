import { chmodSync, chownSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exposedMode, exposedModeOf, privateModeAdvice, type FileAccess, type ProcessIdentity } from './file-mode';

describe('credentials file mode', () => {
  // The gateway as the image runs it: user node (1000), group 1000.
  const gateway = { uid: 1000, groups: [1000] };

  it.each([
    [0o600, false],
    [0o400, false],
    [0o640, true],
    [0o644, true],
    [0o602, true],
    [0o660, true],
  ])('a file of the gateway’s own user with mode %o is exposed to others: %s', (mode, exposed) => expect(exposedMode({ mode, uid: 1000, gid: 1000 }, gateway)).toBe(exposed));

  it('takes group-read where the gateway reads the file through its group: a Kubernetes secret (root, fsGroup, 0440)', () => {
    expect(exposedMode({ mode: 0o100440, uid: 0, gid: 1000 }, gateway)).toBe(false);
    // fsGroup need not be the process's primary group: a supplementary one does as well.
    expect(exposedMode({ mode: 0o100440, uid: 0, gid: 2000 }, { uid: 1000, groups: [1000, 2000] })).toBe(false);
  });

  it('warns all the same when others may read it, the group may write it, or the group is not the gateway’s', () => {
    expect(exposedMode({ mode: 0o444, uid: 0, gid: 1000 }, gateway)).toBe(true);
    expect(exposedMode({ mode: 0o460, uid: 0, gid: 1000 }, gateway)).toBe(true);
    expect(exposedMode({ mode: 0o440, uid: 0, gid: 50 }, gateway)).toBe(true);
  });

  (process.getuid?.() === 0 ? it : it.skip)('reads owner and group of the file itself', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'svu-mode-')), 'senders.json');
    writeFileSync(path, '{}');
    chmodSync(path, 0o440);
    chownSync(path, 0, 1000);
    expect(exposedModeOf(path, gateway)).toBeUndefined();
    chownSync(path, 1000, 1000);
    expect(exposedModeOf(path, gateway)).toEqual({ mode: '440', advice: 'chmod 600 it' });
    chownSync(path, 501, 20);
    chmodSync(path, 0o644);
    expect(exposedModeOf(path, gateway)?.advice).toMatch(/^chgrp 1000 it .* chmod 640 it/);
  });

  describe('the advice of the warning', () => {
    /** The file after following the advice: the mode and group it names (`chmod 600`, `chgrp G`, `chmod 640`). */
    const follow = (file: FileAccess, advice: string): FileAccess => {
      const chgrp = /^chgrp (\d+)/.exec(advice);
      const chmod = /chmod (\d{3})/.exec(advice);
      if (chmod === null) throw new Error(`no chmod in: ${advice}`);
      return { mode: Number.parseInt(chmod[1]!, 8), uid: file.uid, gid: chgrp === null ? file.gid : Number(chgrp[1]) };
    };
    const canRead = (file: FileAccess, by: ProcessIdentity) => (file.uid === by.uid ? (file.mode & 0o400) !== 0 : by.groups.includes(file.gid) ? (file.mode & 0o040) !== 0 : (file.mode & 0o004) !== 0);

    it.each([
      ['the gateway’s own file, 0644 (a compose secret from a host user with uid 1000)', { mode: 0o644, uid: 1000, gid: 1000 }, gateway],
      ['a host user’s file, 0644 (a compose secret from uid 501, group 20)', { mode: 0o644, uid: 501, gid: 20 }, gateway],
      ['a host user’s file in the gateway’s group, 0664', { mode: 0o664, uid: 501, gid: 1000 }, gateway],
      ['root’s file, 0444, with a supplementary group', { mode: 0o444, uid: 0, gid: 2000 }, { uid: 1000, groups: [1000, 2000] }],
    ])('leaves %s readable by the gateway and no longer exposed', (_case, file, by) => {
      expect(canRead(file, by)).toBe(true);
      expect(exposedMode(file, by)).toBe(true);
      const advice = privateModeAdvice(file, by);
      const after = follow(file, advice);
      expect([advice, canRead(after, by), exposedMode(after, by)]).toEqual([advice, true, false]);
    });

    it('says chmod 600 only for the gateway’s own file, and why not otherwise', () => {
      expect(privateModeAdvice({ mode: 0o644, uid: 1000, gid: 1000 }, gateway)).toBe('chmod 600 it');
      expect(privateModeAdvice({ mode: 0o644, uid: 501, gid: 20 }, gateway)).toBe(
        "chgrp 1000 it (a group of the gateway's) and chmod 640 it, or make it the gateway's own (uid 1000) and chmod 600 it (it belongs to uid 501, not to the gateway's uid 1000, so chmod 600 would lock the gateway out)",
      );
      expect(privateModeAdvice({ mode: 0o664, uid: 501, gid: 1000 }, gateway)).toMatch(/^chmod 640 it: the gateway reads it through its group 1000 \(/);
    });
  });
});
