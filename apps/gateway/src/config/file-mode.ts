import { statSync } from 'node:fs';

/** A file's permission bits and owners, as `stat` gives them. */
export interface FileAccess {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** The user and the groups (primary and supplementary) the process runs as. */
export interface ProcessIdentity {
  readonly uid: number;
  readonly groups: readonly number[];
}

function currentProcess(): ProcessIdentity {
  const gid = process.getgid?.();
  return { uid: process.getuid?.() ?? -1, groups: [...(gid === undefined ? [] : [gid]), ...(process.getgroups?.() ?? [])] };
}

/**
 * True when someone other than the gateway may read or change a credentials file (docs/deploy.md,
 * "Credentials files"):
 * - others may read or write it;
 * - its group may write it;
 * - its group may read it and the gateway does not read it through that group. The gateway reads it
 *   through its group when the file belongs to another user (root, as Kubernetes' secret volumes do)
 *   and its group is one of the process's groups (the pod's fsGroup, or a group made for the
 *   gateway): the group bit is then how the gateway is let in, and taking it away locks it out. A
 *   file that belongs to the gateway's own user needs no group bit (`chmod 600`).
 */
export function exposedMode(file: FileAccess, by: ProcessIdentity = currentProcess()): boolean {
  if ((file.mode & 0o006) !== 0 || (file.mode & 0o020) !== 0) return true;
  if ((file.mode & 0o040) === 0) return false;
  const readsThroughGroup = file.uid !== by.uid && by.groups.includes(file.gid);
  return !readsThroughGroup;
}

/**
 * How to make an exposed credentials file private without locking the gateway out of it, for the
 * start-up warning. `chmod 600` only helps a file that belongs to the gateway's own user: a file of
 * another user (a compose secret keeps the owner it has on the host, often not uid 1000) would then
 * be unreadable for the gateway, which could no longer start. Such a file is made readable through a
 * group the gateway is in instead: its own group when the file has it, else the gateway's first.
 */
export function privateModeAdvice(file: FileAccess, by: ProcessIdentity = currentProcess()): string {
  if (file.uid === by.uid) return 'chmod 600 it';
  const group = by.groups.includes(file.gid) ? file.gid : by.groups[0];
  const lockedOut = `it belongs to uid ${file.uid}, not to the gateway's uid ${by.uid}, so chmod 600 would lock the gateway out`;
  if (group === undefined) return `make it the gateway's own (uid ${by.uid}) and chmod 600 it (${lockedOut})`;
  if (group === file.gid) return `chmod 640 it: the gateway reads it through its group ${group} (${lockedOut})`;
  return `chgrp ${group} it (a group of the gateway's) and chmod 640 it, or make it the gateway's own (uid ${by.uid}) and chmod 600 it (${lockedOut})`;
}

/** A credentials file someone other than the gateway may read or change: its mode (octal, `644`) and how to close it. */
export interface ExposedFile {
  readonly mode: string;
  readonly advice: string;
}

/**
 * A credentials file (users, senders) that someone other than the gateway may read or change, else
 * undefined. Start-up warns about such a file: it holds password and key hashes, which can be
 * attacked offline.
 */
export function exposedModeOf(path: string, by: ProcessIdentity = currentProcess()): ExposedFile | undefined {
  try {
    const stat = statSync(path);
    return exposedMode(stat, by) ? { mode: (stat.mode & 0o777).toString(8), advice: privateModeAdvice(stat, by) } : undefined;
  } catch {
    return undefined;
  }
}
