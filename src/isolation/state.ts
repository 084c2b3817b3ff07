import fs from 'node:fs';
import path from 'node:path';
import type { SessionNames } from './names.js';

/**
 * What each live session owns, on tmpfs (gone at reboot, like the namespaces themselves). A record is
 * written before anything is created and removed after everything is gone, so a sweep that finds a record
 * knows the full list of objects to delete, whatever point a crash interrupted.
 */
export const DEFAULT_STATE_DIR = '/run/keyless/isolation';

export const stateDir = (): string => process.env['KEYLESS_ISOLATION_STATE_DIR'] || DEFAULT_STATE_DIR;

export interface SessionRecord {
  version: 1;
  names: SessionNames;
  /** Link block claimed in the address pool (set once claimed). */
  block?: number;
  /** The CLI process that owns the session, and its start time (so a recycled pid is not mistaken for it). */
  pid: number;
  pidStart?: string;
  /** The `keyless serve` process the session's rules point at. */
  serverPid: number;
  vm: string;
  createdAt: string;
}

const recordFile = (dir: string, n: { serverId: string; sessionId: string }) => path.join(dir, `session-${n.serverId}-${n.sessionId}.json`);
const blockFile = (dir: string, block: number) => path.join(dir, `block-${block}`);

function ensureDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Creates the record exclusively: false if that session id is already in use. */
export function createRecord(dir: string, record: SessionRecord): boolean {
  ensureDir(dir);
  try {
    fs.writeFileSync(recordFile(dir, record.names), JSON.stringify(record), { flag: 'wx', mode: 0o600 });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

export function updateRecord(dir: string, record: SessionRecord): void {
  fs.writeFileSync(recordFile(dir, record.names), JSON.stringify(record), { mode: 0o600 });
}

export function removeRecord(dir: string, n: { serverId: string; sessionId: string }): void {
  fs.rmSync(recordFile(dir, n), { force: true });
}

export function readRecords(dir: string): SessionRecord[] {
  let files: string[];
  try {
    files = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: SessionRecord[] = [];
  for (const f of files) {
    if (!/^session-[0-9a-f]+-[0-9a-f]+\.json$/.test(f)) continue;
    try {
      const r = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as SessionRecord;
      if (r.version === 1 && r.names?.netns) out.push(r);
    } catch {
      // Half-written by a session that died mid-create: its objects carry the prefix and are swept by name.
    }
  }
  return out;
}

/** Atomically claims a link block: only one of two racing CLIs can create the claim file. */
export function claimBlock(dir: string, block: number, owner: string): boolean {
  ensureDir(dir);
  try {
    fs.writeFileSync(blockFile(dir, block), owner, { flag: 'wx', mode: 0o600 });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

export function releaseBlock(dir: string, block: number): void {
  fs.rmSync(blockFile(dir, block), { force: true });
}

/** Claimed blocks and their owners (`<serverId>-<sessionId>`). */
export function claimedBlocks(dir: string): Map<number, string> {
  const out = new Map<number, string>();
  let files: string[] = [];
  try {
    files = fs.readdirSync(dir);
  } catch {
    return out;
  }
  for (const f of files) {
    const m = /^block-(\d+)$/.exec(f);
    if (!m) continue;
    try {
      out.set(Number(m[1]), fs.readFileSync(path.join(dir, f), 'utf8').trim());
    } catch {
      // released meanwhile
    }
  }
  return out;
}

/** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: count from the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19];
  } catch {
    return undefined;
  }
}

export function isProcessAlive(pid: number, start?: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (start === undefined) return true;
  const now = processStartTime(pid);
  return now === undefined || now === start;
}
