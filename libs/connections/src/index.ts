export { connectionError, reasonOf, withoutPassword } from './connections';
export { BROKER_CONNECT_TIMEOUT_MS, connectBroker } from './broker';
