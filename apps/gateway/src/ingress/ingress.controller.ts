import { Controller, HttpCode, Logger, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { formatPath } from '@svu/canonical';
import { isFormat, MAX_MESSAGE_BYTES } from '@svu/dialects';
import { problemsJson } from '../store/records';
import { IngressService } from './ingress.service';
import { Public } from '../console/auth/auth.guard';

/** Reads a request body, stopping one byte past the limit. */
async function readBody(req: Request, limit: number): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) return 'too-large';
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * HTTP ingress: `POST /ingress/<dialect>` with the message as the dialect writes it. 202 with the
 * message id once stored (also for a message id seen before), 400 with the problems (the message is
 * kept in the dead-letter queue), 413 over 256 KiB, 503 when the broker or the store cannot take it.
 */
@Public()
@Controller('ingress')
export class IngressController {
  private readonly logger = new Logger(IngressController.name);

  constructor(private readonly ingress: IngressService) {}

  @Post(':dialect')
  @HttpCode(202)
  async post(@Param('dialect') dialect: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    if (!isFormat(dialect)) {
      res.status(404).json({ error: `unknown dialect ${JSON.stringify(dialect)}; use lifecare, webcare, samsa or canonical` });
      return;
    }
    const body = await readBody(req, MAX_MESSAGE_BYTES);
    if (body === 'too-large') {
      res.status(413).json({ problems: [{ path: formatPath([]), message: `is larger than ${MAX_MESSAGE_BYTES} bytes` }] });
      return;
    }
    if (!this.ingress.canAccept()) {
      res.status(503).setHeader('retry-after', '5').json({ error: 'the gateway cannot store messages right now; try again later' });
      return;
    }
    try {
      const result = await this.ingress.accept({ format: dialect, bytes: body, via: 'http' });
      if (result.status === 'invalid') {
        res.status(400).json({ problems: problemsJson(result.problems), deadLetterId: result.deadLetterId });
        return;
      }
      res.status(202).json({ messageId: result.messageId, ...(result.status === 'duplicate' ? { duplicate: true } : {}) });
    } catch (error) {
      this.logger.error({ dialect, err: (error as Error).message }, 'message not stored; answered 503');
      res.status(503).setHeader('retry-after', '5').json({ error: 'the gateway cannot store messages right now; try again later' });
    }
  }
}
