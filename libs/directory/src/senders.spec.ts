import { describeDirectoryProblem } from './directory';
import { maySendAs, parseSenders } from './senders';

const HASH = `scrypt$${'a'.repeat(32)}$${'b'.repeat(64)}`;
const FINGERPRINT = Array(32).fill('AB').join(':');
const problems = (senders: unknown[]) => {
  const parsed = parseSenders(JSON.stringify({ senders }));
  return parsed.ok ? [] : parsed.problems.map(describeDirectoryProblem);
};

describe('parseSenders', () => {
  it('finds a system by the id in its key, its RabbitMQ user and its certificate', () => {
    const parsed = parseSenders(
      JSON.stringify({
        senders: [
          { id: 'lifecare-vgr', name: 'Lifecare', hsaIds: ['SE2321000131-E000000000001'], keyHash: HASH, amqpUser: 'lifecare' },
          { id: 'samsa', name: 'SAMSA', hsaIds: ['SE2120001637-K000000001480'], certificateFingerprint: FINGERPRINT, certificateSubject: 'C=SE, CN=samsa' },
        ],
      }),
    );
    if (!parsed.ok) throw new Error('expected a valid file');
    const registry = parsed.value;
    expect(registry.claimedByKey('lifecare-vgr.secret')?.id).toBe('lifecare-vgr');
    expect(registry.claimedByKey('samsa.secret')).toBeUndefined(); // it has no key
    expect(registry.claimedByKey('nodot')).toBeUndefined();
    expect(registry.byAmqp('lifecare')?.id).toBe('lifecare-vgr');
    expect(registry.byCertificate(FINGERPRINT.toLowerCase(), 'other')?.id).toBe('samsa');
    expect(registry.byCertificate('00', 'C=SE, CN=samsa')?.id).toBe('samsa');
    expect(maySendAs(registry.byIdentifier('samsa')!, 'SE2120001637-K000000001480')).toBe(true);
    expect(maySendAs(registry.byIdentifier('samsa')!, 'SE2321000131-E000000000001')).toBe(false);
  });

  it('names each problem: no credential, a key that is not a hash, a user or id listed twice', () => {
    expect(problems([{ id: 'a', name: 'A', hsaIds: ['SE2321000131-E000000000001'] }])).toEqual([
      'senders[0]: needs a credential: keyHash, certificateSubject, certificateFingerprint, amqpUser',
    ]);
    expect(problems([{ id: 'a', name: 'A', hsaIds: ['SE2321000131-E000000000001'], keyHash: 'plain-text-key' }])).toHaveLength(1);
    expect(
      problems([
        { id: 'a', name: 'A', hsaIds: ['SE2321000131-E000000000001'], amqpUser: 'u' },
        { id: 'a', name: 'B', hsaIds: ['SE2321000131-E000000000001'], amqpUser: 'u' },
      ]),
    ).toEqual(['senders[1].id: names a sender system already listed', 'senders[1].amqpUser: names a sender system already listed']);
  });
});
