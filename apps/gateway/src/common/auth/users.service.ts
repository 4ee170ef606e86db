import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config';
import { exposedModeOf } from '../../config/file-mode';
import { fileReadError } from '@svu/canonical';
import { parseUsers, userFingerprint, type User } from '@svu/users';

/**
 * The console users in force, read from SVU_USERS and reloaded when the file changes (a file that does
 * not pass is refused with a log line, and the previous users stay; at start it stops the start). Sessions check their user here
 * on every request, so a user removed, or whose role or password changed, is signed out at once.
 */
@Injectable()
export class UsersService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(UsersService.name);
  private users = new Map<string, User>();
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private readonly listeners: Array<(previous: ReadonlyMap<string, User>, current: ReadonlyMap<string, User>) => void> = [];

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  onModuleInit(): void {
    // Only a console process signs users in; the other services have no use for the file. A console
    // without its users is of no use to anyone: a file missing or refused at start stops the start.
    if (!this.config.services.has('console')) return;
    const refused = this.refresh();
    if (refused !== undefined) throw new Error(`console users file ${this.config.usersPath} (SVU_USERS): ${refused}`);
    try {
      this.watcher = watch(dirname(this.config.usersPath), (_event, file) => {
        if (file !== null && file !== basename(this.config.usersPath)) return;
        if (this.debounce !== undefined) clearTimeout(this.debounce);
        this.debounce = setTimeout(() => this.load(), 50);
      });
    } catch (error) {
      this.logger.error({ path: this.config.usersPath, err: (error as Error).message }, 'console users file not watched; changes need a restart');
    }
  }

  /** Reads the file; true when it is now in force. */
  load(): boolean {
    return this.refresh() === undefined;
  }

  /** Reads the file: undefined when it is now in force, else why it was refused (one line). */
  private refresh(): string | undefined {
    const path = this.config.usersPath;
    const refuse = (err: string, reason: string) => {
      this.logger.error({ path, err }, this.users.size === 0 ? 'console users not loaded; nobody can sign in' : 'console users file refused; previous users kept');
      return reason;
    };
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      return refuse((error as Error).message, fileReadError(error));
    }
    const exposed = exposedModeOf(path);
    if (exposed !== undefined) {
      this.logger.warn({ path, mode: exposed.mode }, `console users file can be read or changed by users other than the gateway; ${exposed.advice} (docs/deploy.md, "Credentials files")`);
    }
    let users: Map<string, User>;
    try {
      users = parseUsers(text, path);
    } catch (error) {
      const message = (error as Error).message;
      return refuse(message, message.startsWith(`${path}: `) ? message.slice(path.length + 2) : message);
    }
    const previous = this.users;
    this.users = users;
    this.logger.log({ path, users: users.size }, 'console users loaded');
    for (const listener of this.listeners) listener(previous, users);
    return undefined;
  }

  get(username: string): User | undefined {
    return this.users.get(username);
  }

  /** Whether a session begun with `fingerprint` still belongs to a user of the file, unchanged. */
  current(username: string, fingerprint: string): User | undefined {
    const user = this.users.get(username);
    return user !== undefined && userFingerprint(user) === fingerprint ? user : undefined;
  }

  /** Called after each reload with the users before and after. */
  onChange(listener: (previous: ReadonlyMap<string, User>, current: ReadonlyMap<string, User>) => void): void {
    this.listeners.push(listener);
  }

  onModuleDestroy(): void {
    this.watcher?.close();
    if (this.debounce !== undefined) clearTimeout(this.debounce);
  }
}
