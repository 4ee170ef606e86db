import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { createHash, scrypt, timingSafeEqual, type X509Certificate } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { fileReadError, problemsLine } from '@svu/canonical';
import { describeDirectoryProblem, parseSenders, SenderRegistry, type SenderSystem } from '@svu/directory';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { exposedModeOf } from '../config/file-mode';
import type { Limits } from './token-bucket';

/** Verified keys kept at most (by SHA-256 of the key); keys that failed are forgotten first. */
const MAX_CACHED_KEYS = 10_000;
/** Keys not seen before checked at the same time at most; more are answered 429 until one is done. */
const MAX_CHECKING = 8;

/**
 * The sender systems in force (SVU_SENDERS), reloaded when the file changes like the unit directory;
 * a file that does not pass the schema is refused with one log line per problem and the previous one
 * stays. Bearer keys are checked against their scrypt hash once, off the event loop (node's async
 * scrypt runs in the libuv pool), and the outcome is kept in memory by the key's SHA-256 until the
 * file changes, so a request costs one hash lookup and not one scrypt.
 */
@Injectable()
export class SendersService implements OnModuleDestroy {
  private readonly logger = new Logger(SendersService.name);
  private current = new SenderRegistry([]);
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  /**
   * SHA-256 of a presented key → the outcome of checking it against a system's key hash. Kept across
   * reloads of the senders file: an outcome counts only while the system it names still has the same
   * hash, so a reload neither keeps a withdrawn key working nor makes every sender's key costly again
   * (which a flood of guessed keys could then turn into refusals of real senders).
   */
  private verified = new Map<string, Promise<{ readonly id: string; readonly keyHash: string; readonly ok: boolean }>>();
  private checking = 0;
  /** Whether a senders file has been in force in this process, and why the last one was refused. */
  private loaded = false;
  private refusal: string | undefined;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  /**
   * Loads the file, warns when others can read it, and watches it. `required` (a process that runs
   * ingress): it must be valid at start, else one error says why. A console process without ingress
   * starts without it (logged), and replays no dead letter until a file that passes is there.
   */
  async start(required = true): Promise<void> {
    const refused = await this.refresh();
    if (refused !== undefined) {
      if (required) throw new Error(this.unavailable ?? refused);
      this.logger.warn({ path: this.config.sendersPath, reason: refused }, 'senders file not loaded: this process replays no dead letter until it is');
    } else {
      const exposed = exposedModeOf(this.config.sendersPath);
      if (exposed !== undefined) {
        this.logger.warn({ path: this.config.sendersPath, mode: exposed.mode }, `senders file can be read or changed by users other than the gateway (it holds key hashes); ${exposed.advice} (docs/deploy.md, "Credentials files")`);
      }
    }
    try {
      this.watcher = watch(dirname(this.config.sendersPath), (_event, file) => {
        if (file !== null && file !== basename(this.config.sendersPath)) return;
        if (this.debounce !== undefined) clearTimeout(this.debounce);
        this.debounce = setTimeout(() => void this.load(), 100);
      });
    } catch (error) {
      // A folder that is not there (a console started without the file) cannot be watched.
      this.logger.warn({ path: this.config.sendersPath, err: (error as Error).message }, 'senders file not watched; a file put there later needs a restart');
    }
  }

  /** Why no senders file is in force in this process (one line naming the file), else undefined. */
  get unavailable(): string | undefined {
    return this.loaded ? undefined : `senders file ${this.config.sendersPath} (SVU_SENDERS): ${this.refusal ?? 'not read'}`;
  }

  /** Reads and checks the file; true when it is now in force. */
  async load(): Promise<boolean> {
    return (await this.refresh()) === undefined;
  }

  /** Reads and checks the file: undefined when it is now in force, else why it was refused (one line). */
  private async refresh(): Promise<string | undefined> {
    let text: string;
    try {
      text = await readFile(this.config.sendersPath, 'utf8');
    } catch (error) {
      this.logger.error({ path: this.config.sendersPath, err: (error as Error).message }, this.loaded ? 'senders file unreadable; previous one kept' : 'senders file unreadable');
      this.refusal = fileReadError(error);
      return this.refusal;
    }
    const parsed = parseSenders(text);
    if (!parsed.ok) {
      for (const problem of parsed.problems) {
        this.logger.error({ path: this.config.sendersPath, problem: describeDirectoryProblem(problem) }, this.loaded ? 'senders file refused; previous one kept' : 'senders file refused');
      }
      this.refusal = problemsLine(parsed.problems.map(describeDirectoryProblem));
      return this.refusal;
    }
    this.current = parsed.value;
    this.loaded = true;
    this.logger.log({ path: this.config.sendersPath, senders: parsed.value.size }, 'senders file loaded');
    return undefined;
  }

  get registry(): SenderRegistry {
    return this.current;
  }

  /** The limits that apply to `system`: its own, else the defaults (SVU_SENDER_RATE, SVU_SENDER_BYTES). */
  limitsOf(system: SenderSystem): Limits {
    return {
      messagesPerSecond: system.limits?.messagesPerSecond ?? this.config.senderDefaults.messagesPerSecond,
      bytesPerSecond: system.limits?.bytesPerSecond ?? this.config.senderDefaults.bytesPerSecond,
    };
  }

  /**
   * The sender system a bearer key belongs to, undefined when none, or 'busy' when too many keys not
   * seen before are being checked at once (someone trying keys: each costs a scrypt in the thread pool).
   */
  async byKey(key: string): Promise<SenderSystem | undefined | 'busy'> {
    const claimed = this.current.claimedByKey(key);
    if (claimed?.keyHash === undefined) return undefined;
    const keyHash = claimed.keyHash;
    const digest = createHash('sha256').update(key).digest('base64');
    const known = this.verified.get(digest);
    if (known !== undefined) {
      const outcome = await known;
      if (outcome.id === claimed.id && outcome.keyHash === keyHash) return outcome.ok ? claimed : undefined;
    }
    if (this.checking >= MAX_CHECKING) return 'busy';
    // Failed keys are the ones an attacker can make many of: start over when full (the good keys are
    // checked once more each).
    if (this.verified.size >= MAX_CACHED_KEYS) this.verified = new Map();
    const cache = this.verified;
    this.checking += 1;
    const outcome = verifyKey(key, keyHash)
      .then((ok) => ({ id: claimed.id, keyHash, ok }))
      .finally(() => (this.checking -= 1));
    cache.set(digest, outcome);
    outcome.catch(() => cache.delete(digest));
    return (await outcome).ok ? claimed : undefined;
  }

  byAmqpUser(user: string): SenderSystem | undefined {
    return this.current.byAmqp(user);
  }

  byCertificate(certificate: X509Certificate): SenderSystem | undefined {
    return this.current.byCertificate(certificate.fingerprint256, certificate.subject.split('\n').join(', '));
  }

  onModuleDestroy(): void {
    this.watcher?.close();
    if (this.debounce !== undefined) clearTimeout(this.debounce);
  }
}

/** Checks a key against `scrypt$<salt>$<hash>` with node's asynchronous scrypt. */
function verifyKey(key: string, stored: string): Promise<boolean> {
  const [, saltHex, hashHex] = stored.split('$');
  const expected = Buffer.from(hashHex ?? '', 'hex');
  return new Promise((resolve, reject) => {
    scrypt(key, Buffer.from(saltHex ?? '', 'hex'), expected.length, (error, actual) => {
      if (error !== null) reject(error);
      else resolve(actual.length === expected.length && timingSafeEqual(actual, expected));
    });
  });
}
