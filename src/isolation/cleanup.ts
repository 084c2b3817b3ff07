import fs from 'node:fs';
import path from 'node:path';
import { NETNS_PREFIX, parseNetnsName, parseNftTableName, parseVethName, serverIdFor, sessionNames, type SessionNames } from './names.js';
import { claimedBlocks, isProcessAlive, readRecords, releaseBlock, removeRecord, stateDir, type SessionRecord } from './state.js';
import { isolationUnavailableReason, run, runSync, which } from './system.js';

const NETNS_DIR = '/run/netns';
const ETC_NETNS = '/etc/netns';
const SYS_NET = '/sys/class/net';

export interface StaleContext {
  /** Sessions of this server id that point at another server process are stale (the server restarted). */
  serverId?: string;
  serverPid?: number;
  isAlive?(pid: number, start?: string): boolean;
}

/** A session is stale once its CLI is gone, its server is gone, or its server was restarted since. */
export function isStale(r: SessionRecord, ctx: StaleContext = {}): boolean {
  const alive = ctx.isAlive ?? isProcessAlive;
  if (!alive(r.pid, r.pidStart)) return true;
  if (!alive(r.serverPid)) return true;
  if (ctx.serverId !== undefined && ctx.serverPid !== undefined && r.names.serverId === ctx.serverId && r.serverPid !== ctx.serverPid) return true;
  return false;
}

const notFound = (stderr: string) => /no such|does not exist|cannot find|not found/i.test(stderr);

/**
 * Deletes everything a session may own, in reverse order of creation, each step idempotent. The record goes
 * last and only if every step succeeded, so a failed cleanup is retried by the next sweep.
 */
export async function removeSession(names: SessionNames, opts: { dir?: string; block?: number } = {}): Promise<string[]> {
  const errors: string[] = [];
  const step = async (cmd: string, args: string[]) => {
    const r = await run(cmd, args, { allowFailure: true }).catch((e: unknown) => ({ code: 1, stdout: '', stderr: String(e) }));
    if (r.code !== 0 && !notFound(r.stderr)) errors.push(`${cmd} ${args.join(' ')}: ${r.stderr.trim()}`);
  };
  if (which('nft')) await step('nft', ['delete', 'table', 'ip', names.nftTable]);
  if (fs.existsSync(path.join(SYS_NET, names.vethHost))) await step('ip', ['link', 'del', names.vethHost]);
  if (fs.existsSync(path.join(NETNS_DIR, names.netns))) await step('ip', ['netns', 'del', names.netns]);
  finishRemoval(names, opts, errors);
  return errors;
}

/** The same, synchronously: for a process 'exit' handler, where nothing asynchronous runs any more. */
export function removeSessionSync(names: SessionNames, opts: { dir?: string; block?: number } = {}): string[] {
  const errors: string[] = [];
  const step = (cmd: string, args: string[]) => {
    const r = runSync(cmd, args);
    if (r.code !== 0 && !notFound(r.stderr)) errors.push(`${cmd} ${args.join(' ')}: ${r.stderr.trim()}`);
  };
  if (which('nft')) step('nft', ['delete', 'table', 'ip', names.nftTable]);
  if (fs.existsSync(path.join(SYS_NET, names.vethHost))) step('ip', ['link', 'del', names.vethHost]);
  if (fs.existsSync(path.join(NETNS_DIR, names.netns))) step('ip', ['netns', 'del', names.netns]);
  finishRemoval(names, opts, errors);
  return errors;
}

function finishRemoval(names: SessionNames, opts: { dir?: string; block?: number }, errors: string[]): void {
  try {
    fs.rmSync(path.join(ETC_NETNS, names.netns), { recursive: true, force: true });
  } catch (e) {
    errors.push(String(e));
  }
  if (errors.length) return;
  const dir = opts.dir ?? stateDir();
  if (opts.block !== undefined) releaseBlock(dir, opts.block);
  removeRecord(dir, names);
}

export interface SweepResult {
  removed: string[];
  errors: string[];
}

/**
 * Removes stale sessions (see isStale) and any Keyless-named namespace, veth, nftables table, /etc/netns
 * directory or block claim that no live session record owns. OS objects and claims are listed before the
 * records are read: a session writes its record before it claims or creates anything, so nothing it makes
 * meanwhile is mistaken for an orphan.
 */
export async function sweepStale(ctx: StaleContext & { dir?: string; all?: boolean } = {}): Promise<SweepResult> {
  const dir = ctx.dir ?? stateDir();
  const objects = await listObjects();
  const claims = claimedBlocks(dir);
  const records = readRecords(dir);
  const removed: string[] = [];
  const errors: string[] = [];
  const live = new Set<string>();
  for (const r of records) {
    const key = `${r.names.serverId}-${r.names.sessionId}`;
    if (!ctx.all && !isStale(r, ctx)) {
      live.add(key);
      continue;
    }
    const errs = await removeSession(r.names, { dir, ...(r.block !== undefined ? { block: r.block } : {}) });
    if (errs.length) errors.push(...errs);
    else removed.push(key);
  }
  for (const key of objects.sessions) {
    if (live.has(key) || removed.includes(key)) continue;
    const [serverId, sessionId] = key.split('-') as [string, string];
    const errs = await removeSession(sessionNames(serverId, sessionId), { dir });
    if (errs.length) errors.push(...errs);
    else removed.push(key);
  }
  for (const [block, owner] of claims) {
    if (!live.has(owner)) releaseBlock(dir, block);
  }
  return { removed, errors };
}

/** Session keys (`<serverId>-<sessionId>`) of every Keyless-named object on the machine. */
async function listObjects(): Promise<{ sessions: Set<string> }> {
  const sessions = new Set<string>();
  const add = (ids: { serverId: string; sessionId: string } | undefined) => ids && sessions.add(`${ids.serverId}-${ids.sessionId}`);
  for (const n of readDir(NETNS_DIR)) add(parseNetnsName(n));
  for (const n of readDir(ETC_NETNS)) add(parseNetnsName(n));
  for (const n of readDir(SYS_NET)) add(parseVethName(n));
  if (which('nft')) {
    const r = await run('nft', ['list', 'tables', 'ip'], { allowFailure: true }).catch(() => undefined);
    for (const m of (r?.stdout ?? '').matchAll(/^table ip (\S+)$/gm)) add(parseNftTableName(m[1]!));
  }
  return { sessions };
}

function readDir(d: string): string[] {
  try {
    return fs.readdirSync(d);
  } catch {
    return [];
  }
}

/**
 * At server start: sessions made against an earlier run of this server point at listeners that no longer
 * exist. Cheap when there is nothing to do (directory reads only), silent when not root.
 */
export async function sweepOnServerStart(tenantId: string, serverPid: number): Promise<SweepResult | undefined> {
  if (isolationUnavailableReason()) return undefined;
  const anything =
    readRecords(stateDir()).length > 0 ||
    readDir(NETNS_DIR).some((n) => n.startsWith(NETNS_PREFIX)) ||
    readDir(ETC_NETNS).some((n) => n.startsWith(NETNS_PREFIX)) ||
    readDir(SYS_NET).some((n) => parseVethName(n) !== undefined);
  if (!anything) return undefined;
  return sweepStale({ serverId: serverIdFor(tenantId), serverPid });
}
