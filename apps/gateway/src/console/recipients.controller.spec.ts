import type { DirectoryUnit } from '@svu/directory';
import type { DirectoryService } from '../directory/directory.service';
import { healthyStatus, type RecipientHealthStore } from '../egress';
import type { AuditService } from '../common/audit.service';
import { RecipientsController } from './recipients.controller';

const unit: DirectoryUnit = {
  hsaId: 'SE2120000016-REC',
  name: 'Hemtjänst Test',
  role: 'municipal-health-care',
  dialect: 'samsa',
  transport: { kind: 'http', url: 'https://recipient.test/svu' },
};

function controller(now: Date, oldestWaitingAt: Date | null): RecipientsController {
  const health = { list: () => Promise.resolve([{ ...healthyStatus(unit.hsaId), backlog: 3, oldestWaitingAt }]) } as unknown as RecipientHealthStore;
  const directory = { directory: { units: [unit] }, lookup: (id: string) => (id === unit.hsaId ? unit : undefined) } as unknown as DirectoryService;
  return new RecipientsController(health, directory, {} as AuditService, { now: () => now });
}

describe('RecipientsController', () => {
  it("gives the oldest waiting copy's age on the gateway's clock, not the machine's", async () => {
    // The gateway's clock stands in 2030; the machine's is today: the age is the clock's, 90 s.
    const now = new Date('2030-01-01T12:00:00Z');
    const [view] = await controller(now, new Date(now.getTime() - 90_000)).list();
    expect(view).toMatchObject({ hsaId: unit.hsaId, backlog: 3, oldestWaitingSeconds: 90, inDirectory: true });
  });

  it('gives no age when nothing waits, and never a negative one', async () => {
    const now = new Date('2030-01-01T12:00:00Z');
    expect((await controller(now, null).list())[0]?.oldestWaitingSeconds).toBeNull();
    expect((await controller(now, new Date(now.getTime() + 5_000)).list())[0]?.oldestWaitingSeconds).toBe(0);
  });
});
