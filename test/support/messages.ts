import type { CanonicalMessage } from '@svu/canonical';
import { readMessage, writeMessage, type Format } from '@svu/dialects';
import type { DirectoryUnit } from '@svu/directory';
import { exampleCanonical } from '../fixtures/contract-examples';

let counter = 0;

/** A fresh copy of a contract example with its own ids and the given recipients. */
export function exampleFor<T extends Parameters<typeof exampleCanonical>[0]>(
  type: T,
  recipients: readonly DirectoryUnit[] | readonly string[],
  overrides: { messageId?: string; episodeId?: string } = {},
): CanonicalMessage {
  const message = exampleCanonical(type) as unknown as Record<string, any>;
  counter += 1;
  message['messageId'] = overrides.messageId ?? `T-${process.pid}-${Date.now().toString(36)}-${counter}`;
  message['episodeId'] = overrides.episodeId ?? `EP-${process.pid}-${counter}`;
  message['recipients'] = recipients.map((r) =>
    typeof r === 'string' ? { hsaId: r, role: 'municipal-health-care' } : { hsaId: r.hsaId, role: r.role },
  );
  return message as unknown as CanonicalMessage;
}

export function bytesOf(message: CanonicalMessage, format: Format): Buffer {
  return writeMessage(format, message);
}

/** Reads what a recipient got, in its dialect, back to canonical. */
export function canonicalOf(format: Format, bytes: Buffer): CanonicalMessage {
  const result = readMessage(format, bytes);
  if (!result.ok) throw new Error(`recipient got an invalid message: ${JSON.stringify(result.problems)}`);
  return result.value;
}

/**
 * An admission as a hospital sends it in the normal case: admitted two hours ago, assessed an hour
 * ago, sent now, so its 24-hour deadline lies ahead (the contract example's dates are long past,
 * which would make every copy late on arrival). Estimated discharge in five days.
 */
export function onTimeAdmission(recipients: readonly DirectoryUnit[], overrides: { messageId?: string; episodeId?: string } = {}): CanonicalMessage {
  const message = exampleFor('admission', recipients, overrides) as Extract<CanonicalMessage, { type: 'admission' }>;
  const at = (hoursAgo: number) => new Date(Date.now() - hoursAgo * 3_600_000).toISOString().slice(0, 19) + 'Z';
  const body = { ...message.body, admittedAt: at(2), assessedAt: at(1), estimatedDischargeDate: at(-120).slice(0, 10) };
  return { ...message, sentAt: at(0), body };
}
