import { formatProblem } from '@svu/canonical';
import { exampleBytes, exampleCanonical, MESSAGE_TYPES } from '../../../test/fixtures/contract-examples';
import { FORMATS, readMessage, translate, writeMessage } from './index';

describe.each(MESSAGE_TYPES)('contract example %s', (type) => {
  it.each(FORMATS)('reads the %s form as the canonical example', (format) => {
    const result = readMessage(format, exampleBytes(type, format));
    if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
    expect(result.value).toEqual(exampleCanonical(type));
  });

  it.each(FORMATS)('writes the %s form byte for byte as the example', (format) => {
    const result = readMessage('canonical', exampleBytes(type, 'canonical'));
    expect(result.ok).toBe(true);
    if (result.ok) expect(writeMessage(format, result.value).toString('latin1')).toBe(exampleBytes(type, format).toString('latin1'));
  });

  const pairs = FORMATS.flatMap((from) => FORMATS.map((to) => [from, to] as const));
  it.each(pairs)('translates %s to %s with the same meaning', (from, to) => {
    const translated = translate(from, to, exampleBytes(type, from));
    if (!translated.ok) throw new Error(translated.problems.map(formatProblem).join('\n'));
    const reread = readMessage(to, translated.value);
    expect(reread.ok && reread.value).toEqual(exampleCanonical(type));
  });
});
