import { problem } from '@svu/canonical';
import { problemsJson, storable } from './records';

describe('storable text from refused messages', () => {
  it('replaces NUL, other control characters and lone surrogates, keeps tab, newline and pairs', () => {
    expect(storable('a\u0000b\u0001c\td\ne')).toBe('a\uFFFDb\uFFFDc\td\ne');
    expect(storable('x\uD800y\uDC00z😀')).toBe('x\uFFFDy\uFFFDz😀');
  });
  it('cuts overlong quotes', () => {
    expect(storable('a'.repeat(600))).toHaveLength(501);
  });
  it('applies to problems', () => {
    expect(problemsJson([problem('document', [], 'bad tag <a\u0000b>')])).toEqual([{ path: 'message', message: 'bad tag <a\uFFFDb>' }]);
  });
});
