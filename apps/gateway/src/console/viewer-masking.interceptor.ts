import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { map, type Observable } from 'rxjs';
import type { AuthedRequest } from './auth/auth.guard';
import { maskForViewer } from './masking';

/**
 * Masks every answer of the routes it guards for anyone but an operator (docs/console-security.md):
 * a backstop behind the services' own masking, so that no route shows a viewer an identity number,
 * whatever text it passes on (message ids, problems, recipients' errors, audit details).
 */
@Injectable()
export class ViewerMaskingInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    if (req.session?.role === 'operator') return next.handle();
    return next.handle().pipe(map((body: unknown) => maskForViewer(body)));
  }
}
