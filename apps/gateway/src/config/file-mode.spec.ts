import { exposedMode } from './file-mode';

describe('credentials file mode', () => {
  it.each([
    [0o600, false],
    [0o400, false],
    [0o640, true],
    [0o644, true],
    [0o602, true],
  ])('mode %o exposes the file to others: %s', (mode, exposed) => expect(exposedMode(mode)).toBe(exposed));
});
