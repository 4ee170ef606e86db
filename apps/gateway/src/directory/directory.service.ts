import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { fileReadError, problemsLine } from '@svu/canonical';
import { describeDirectoryProblem, parseDirectory, type Directory, type DirectoryUnit } from '@svu/directory';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';

/**
 * The unit directory in force, read from SVU_DIRECTORY and reloaded when the file changes. A file
 * that does not pass the schema is refused with a log line per problem, and the previous one stays.
 */
@Injectable()
export class DirectoryService implements OnModuleDestroy {
  private readonly logger = new Logger(DirectoryService.name);
  private current: Directory | undefined;
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private readonly listeners: Array<(directory: Directory) => void> = [];

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  /** Loads the file (it must be valid at start: else one error says why) and watches it for changes. */
  async start(): Promise<void> {
    const refused = await this.refresh();
    if (refused !== undefined) throw new Error(`unit directory ${this.config.directoryPath} (SVU_DIRECTORY): ${refused}`);
    // Watch the folder, not the file: editors replace files by renaming, which ends a file watch.
    this.watcher = watch(dirname(this.config.directoryPath), (_event, file) => {
      if (file !== null && file !== basename(this.config.directoryPath)) return;
      if (this.debounce !== undefined) clearTimeout(this.debounce);
      this.debounce = setTimeout(() => void this.load(), 100);
    });
  }

  /** Reads and checks the file; true when it is now in force. */
  async load(): Promise<boolean> {
    return (await this.refresh()) === undefined;
  }

  /** Reads and checks the file: undefined when it is now in force, else why it was refused (one line). */
  private async refresh(): Promise<string | undefined> {
    let text: string;
    try {
      text = await readFile(this.config.directoryPath, 'utf8');
    } catch (error) {
      this.logger.error({ path: this.config.directoryPath, err: (error as Error).message }, this.current === undefined ? 'unit directory unreadable' : 'unit directory unreadable; previous one kept');
      return fileReadError(error);
    }
    const parsed = parseDirectory(text);
    if (!parsed.ok) {
      for (const problem of parsed.problems) {
        this.logger.error({ path: this.config.directoryPath, problem: describeDirectoryProblem(problem) }, this.current === undefined ? 'unit directory refused' : 'unit directory refused; previous one kept');
      }
      return problemsLine(parsed.problems.map(describeDirectoryProblem));
    }
    this.current = parsed.value;
    this.logger.log({ path: this.config.directoryPath, units: parsed.value.size }, 'unit directory loaded');
    for (const listener of this.listeners) listener(parsed.value);
    return undefined;
  }

  lookup(hsaId: string): DirectoryUnit | undefined {
    return this.current?.lookup(hsaId);
  }

  get directory(): Directory {
    if (this.current === undefined) throw new Error('unit directory not loaded');
    return this.current;
  }

  /** Called with every directory that comes into force, the current one first. */
  onChange(listener: (directory: Directory) => void): void {
    this.listeners.push(listener);
    if (this.current !== undefined) listener(this.current);
  }

  onModuleDestroy(): void {
    this.watcher?.close();
    if (this.debounce !== undefined) clearTimeout(this.debounce);
  }
}
