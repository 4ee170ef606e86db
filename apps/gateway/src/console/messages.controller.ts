import { viewerProbeRefusal } from '../common/masking';
import { Controller, Get, Param, Query, Req, UseInterceptors } from '@nestjs/common';
import { Endpoint, refused } from '../common/http/endpoint';
import type { MessageSearchQuery } from '../common/http/generated/api';
import { answer, refusal } from '../common/http/outcome';
import { queryOf } from '../common/http/schema.pipe';
import type { AuthedRequest } from '../common/auth/auth.guard';
import { ViewerMaskingInterceptor } from '../common/viewer-masking.interceptor';
import { MessagesService, UnitNames } from './messages.service';

/** Finding a message and its timeline; the units' names (docs/console.md). */
@Controller('api')
@UseInterceptors(ViewerMaskingInterceptor)
export class MessagesController {
  constructor(
    private readonly messages: MessagesService,
    private readonly names: UnitNames,
  ) {}

  @Get('messages')
  @Endpoint({
    operationId: 'searchMessages',
    tag: 'messages',
    access: 'signed-in',
    summary: 'Messages in every state by message id, episode id or (operators only, audited) a patient identity number, newest first',
    description: 'A viewer may not search (q) by an identity number: 403. The number is looked up by its hash and is neither logged nor audited.',
    query: 'MessageSearchQuery',
    answers: { 200: { description: 'The messages found (at most 100)', body: 'MessageSearchResult' }, 400: refused('q is missing, empty or too long (named)'), 403: refused('A viewer searched by an identity number') },
  })
  async search(@Query(queryOf<MessageSearchQuery>('MessageSearchQuery')) query: MessageSearchQuery, @Req() req: AuthedRequest) {
    return answer(await this.messages.search(query.q, req.session!));
  }

  @Get('messages/:messageId')
  @Endpoint({
    operationId: 'getMessageTimeline',
    tag: 'messages',
    access: 'signed-in',
    summary: 'A message’s timeline: sender, each copy with its recipient, state and attempts (endpoint, status, start of the answer), fallback documents, dead letters, cancellation, acknowledgements',
    params: { messageId: { description: 'The message id', schema: { type: 'string', maxLength: 200 } } },
    description: 'A viewer may not look up an id that holds an identity number: 403 (a 200 or 404 would confirm a guessed number).',
    answers: {
      200: { description: 'Every message with this id (one per sender system that used it), and its refusals at ingress', body: 'MessageTimeline' },
      400: refused('The id is too long'),
      403: refused('A viewer asked for an id holding an identity number'),
      404: refused('No message with this id'),
    },
  })
  async timeline(@Param('messageId') messageId: string, @Req() req: AuthedRequest) {
    const refused = viewerProbeRefusal(req.session?.role, 'messageId', messageId, 'look up a message by an id holding an identity number');
    if (refused !== undefined) throw refusal('forbidden', refused);
    return answer(await this.messages.timeline(messageId));
  }

  @Get('units')
  @Endpoint({
    operationId: 'listUnits',
    tag: 'messages',
    access: 'signed-in',
    summary: 'The units of the directory: HSA id, name, role and transport kind',
    answers: { 200: { description: 'The units', body: 'UnitList' } },
  })
  units() {
    return this.names.units();
  }
}
