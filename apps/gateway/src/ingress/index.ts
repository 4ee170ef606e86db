// What other modules may use of ingress: accepting a message (the console resubmits through it).
export { IngressCoreModule } from './ingress-core.module';
export { IngressService } from './ingress.service';
