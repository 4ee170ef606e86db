export { Directory, parseDirectory, describeDirectoryProblem, type DirectoryUnit, type UnitDirectory } from './directory';
