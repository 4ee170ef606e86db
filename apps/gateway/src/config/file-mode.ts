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
 * The mode (octal, `644`) of a credentials file (users, senders) that someone other than the gateway
 * may read or change, else undefined. Start-up warns about such a file: it holds password and key
 * hashes, which can be attacked offline.
 */
export function exposedModeOf(path: string, by?: ProcessIdentity): string | undefined {
  try {
    const stat = statSync(path);
    return exposedMode(stat, by) ? (stat.mode & 0o777).toString(8) : undefined;
  } catch {
    return undefined;
  }
}
