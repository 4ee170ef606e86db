import { Injectable, SetMetadata, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { from, mergeMap, type Observable } from 'rxjs';
import { MessagesRepository } from '../store/messages.repository';
import type { AuthedRequest } from './auth/auth.guard';
import { maskForViewer, type ViewerMaskOptions } from './masking';

const COMPUTED_REASONS = 'svu:computed-reasons';
/** On a controller whose answers' `reason`s are the gateway's computed words (reports), not operators' free text. */
export const ComputedReasons = () => SetMetadata(COMPUTED_REASONS, true);

/** Keys whose values name a message or an episode, whose patients' names are then hidden in every text. */
const ID_KEYS = new Set(['messageId', 'episodeId']);
const MAX_IDS = 1_000;

function idsIn(value: unknown, into: Set<string>): Set<string> {
  if (into.size >= MAX_IDS) return into;
  if (Array.isArray(value)) for (const item of value) idsIn(item, into);
  else if (value !== null && typeof value === 'object' && !(value instanceof Date) && !Buffer.isBuffer(value)) {
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      if (ID_KEYS.has(key) && typeof item === 'string' && item !== '') into.add(item);
      else idsIn(item, into);
    }
  }
  return into;
}

/**
 * Masks every answer of the routes it guards for anyone but an operator (docs/console-security.md):
 * identity-number-shaped runs in every string (message ids, problems, recipients' errors, audit
 * details) and name fields, and, for the messages and episodes an answer names, their patients'
 * names wherever they stand in a text (a discard reason, a recipient's error).
 */
@Injectable()
export class ViewerMaskingInterceptor implements NestInterceptor {
  constructor(
    private readonly messages: MessagesRepository,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    if (req.session?.role === 'operator') return next.handle();
    const computedReasons = this.reflector.getAllAndOverride<boolean | undefined>(COMPUTED_REASONS, [context.getHandler(), context.getClass()]) === true;
    return next.handle().pipe(mergeMap((body: unknown) => from(this.mask(body, { computedReasons }))));
  }

  private async mask(body: unknown, options: ViewerMaskOptions): Promise<unknown> {
    const ids = [...idsIn(body, new Set())];
    if (ids.length === 0) return maskForViewer(body, [], options);
    const rows = await this.messages.patientNames(ids);
    const names = rows.flatMap((r) => [r.given, r.family]).filter((n): n is string => n !== null).flatMap((n) => n.split(/[\s-]+/));
    return maskForViewer(body, [...new Set(names)], options);
  }
}
