import { Module } from '@nestjs/common';
import { CommonModule } from '../common/common.module';
import { DispatchModule } from '../deadlines';
import { RecipientHealthModule } from '../egress';
import { IngressCoreModule } from '../ingress';
import { RetentionController } from '../retention/retention.controller';
import { AuthController } from './auth/auth.controller';
import { LoginThrottle } from './auth/login-throttle.service';
import { BulkService } from './bulk.service';
import { ConsoleController } from './console.controller';
import { DeadLettersController } from './dead-letters.controller';
import { DispatchController } from './dispatch.controller';
import { DeadLettersService } from './dead-letters.service';
import { MessagesController } from './messages.controller';
import { MessagesService, UnitNames } from './messages.service';
import { OverviewService } from './overview.service';
import { RecipientsController } from './recipients.controller';

/** SVU_SERVICES=console: the operators' API (login, overview, dead letters, finding messages, dispatch, recipients, retention). */
@Module({
  imports: [CommonModule, IngressCoreModule, DispatchModule, RecipientHealthModule],
  providers: [DeadLettersService, BulkService, OverviewService, LoginThrottle, MessagesService, UnitNames],
  controllers: [AuthController, ConsoleController, DeadLettersController, DispatchController, RetentionController, RecipientsController, MessagesController],
})
export class ConsoleModule {}
