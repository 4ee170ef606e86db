export { Directory, parseDirectory, describeDirectoryProblem, type DirectoryUnit, type UnitDirectory } from './directory';
export { SenderRegistry, maySendAs, parseSenders, type SenderLimits, type SenderSystem, type SenderSystems } from './senders';
