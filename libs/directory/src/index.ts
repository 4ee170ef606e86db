export { Directory, parseDirectory, describeDirectoryProblem, type DirectoryUnit, type HttpAuth, type HttpTls, type HttpTransport, type UnitDirectory } from './directory';
export { SenderRegistry, maySendAs, parseSenders, type SenderLimits, type SenderSystem, type SenderSystems } from './senders';
