import type { SendersService } from '../senders/senders.service';
import { DeadLettersService } from './dead-letters.service';

describe('replaying a dead letter in a console process without a senders file', () => {
  it('is refused, saying that no sender system is in force here and why', () => {
    const senders = { unavailable: 'senders file /etc/svu/senders/senders.json (SVU_SENDERS): missing' } as unknown as SendersService;
    const service = new DeadLettersService(...([undefined, undefined, undefined, undefined, senders, undefined] as unknown as ConstructorParameters<typeof DeadLettersService>));
    // The sender system is chosen before anything is stored (private: reached as replay reaches it).
    const senderOf = (service as unknown as { senderOf(row: Record<string, unknown>, hsaId: string): unknown }).senderOf.bind(service);
    expect(senderOf({ sender_system: 'lab' }, 'SE2321000131-E000000000001')).toEqual({
      ok: false,
      refused: 'conflict',
      detail: 'this console process has no sender systems to replay as: senders file /etc/svu/senders/senders.json (SVU_SENDERS): missing',
    });
  });
});
