// What other modules may use of deadlines: what a cancellation does to fallback documents (ingress,
// in the cancellation's transaction) and the record of documents sent by hand (the console).
export { followCancellation, type CancellationFollowUp } from './cancellation-follow-up';
export { DispatchModule } from './dispatch.module';
export { DispatchService, UNDO_WINDOW_MS } from './dispatch.service';
