// What other modules may use of egress: recipient health (the sweeper and the console read it).
export { RecipientHealthModule } from './recipient-health.module';
export { healthyStatus, RecipientHealthStore, type RecipientStatus } from './recipient-health.store';
