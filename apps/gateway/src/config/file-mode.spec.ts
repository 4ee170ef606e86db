import { chmodSync, chownSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exposedMode, exposedModeOf } from './file-mode';

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
    expect(exposedModeOf(path, gateway)).toBe('440');
  });
});
