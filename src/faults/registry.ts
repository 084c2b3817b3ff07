import { systemClock, type Clock, type ShiftableClock } from '../core/clock.js';
import { KeylessError } from '../core/errors.js';

/** Surfaces a request fault can be set on (the clock fault is the one fault that is not per request). */
export const FAULT_SURFACES = ['imds', 'appservice', 'login', 'arm', 'keyvault', 'blob'] as const;
export type FaultSurface = (typeof FAULT_SURFACES)[number];

/** Surfaces whose requests name a resource a fault can target: a VM or web app, a vault, a storage account. */
const TARGETED: ReadonlySet<FaultSurface> = new Set(['imds', 'appservice', 'keyvault', 'blob']);

export const DEFAULT_FAULT_LIFETIME_MS = 5 * 60_000;
const MAX_LIFETIME_MS = 24 * 3_600_000;
const MAX_LATENCY_MS = 5 * 60_000;
const MAX_SHIFT_MS = 30 * 86_400_000;
const MAX_FAULTS = 100;

export interface FaultInput {
  surface: FaultSurface | 'clock';
  /** imds/appservice: VM or web app name or resource id; keyvault: vault name; blob: storage account name. */
  target?: string | undefined;
  /** Applies only to requests whose path contains this (case-insensitive). */
  path?: string | undefined;
  /** Answer with this status, in the surface's own error format. */
  status?: number | undefined;
  /** Retry-After (seconds) sent with `status`. */
  retryAfter?: number | undefined;
  message?: string | undefined;
  /** Delay before the request is answered (with `status`, or normally). */
  latencyMs?: number | undefined;
  /** reset: the connection is reset (ECONNRESET); drop: the request is never answered. */
  connection?: 'reset' | 'drop' | undefined;
  /** surface 'clock': how far the server's clock moves (token iat/nbf/exp and validation alike). */
  shiftMs?: number | undefined;
  /** Lifetime (default 5 minutes, at most 24 hours). */
  forMs?: number | undefined;
  /** Number of requests the fault applies to before it expires. */
  count?: number | undefined;
}

export interface Fault {
  id: string;
  surface: FaultSurface | 'clock';
  target?: string;
  path?: string;
  status?: number;
  retryAfter?: number;
  message?: string;
  latencyMs?: number;
  connection?: 'reset' | 'drop';
  shiftMs?: number;
  createdAt: number;
  expiresAt: number;
  /** Requests left before the fault expires (undefined: only time limits it). */
  remainingCount?: number;
  /** Requests the fault has been applied to so far. */
  applied: number;
}

export interface FaultView extends Fault {
  remainingMs: number;
}

/** Names a request's target answers to (resource id, resource name …), lower-cased; computed only when a fault has a target. */
export type TargetNames = () => readonly string[] | Promise<readonly string[]>;

/**
 * The faults set on this replica, in memory: a test sets one, the next matching request gets it, and it expires
 * by time or by count. Lifetimes run on the real clock (`time`), never on the shiftable server clock, so a clock
 * fault cannot expire the others. The oldest matching fault wins; one request gets at most one fault.
 */
export class FaultRegistry {
  private readonly faults: Fault[] = [];
  private readonly perSurface = new Map<FaultSurface, number>();
  private requestFaults = 0;
  private nextId = 1;
  private clockTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: { serverClock: ShiftableClock; time?: Clock }) {}

  private get now(): number {
    return (this.deps.time ?? systemClock).now();
  }

  add(input: FaultInput): FaultView {
    const f = validate(input, this.now, `f${this.nextId}`);
    this.sweep();
    if (this.faults.length >= MAX_FAULTS) throw new KeylessError(409, 'TooManyFaults', `At most ${MAX_FAULTS} faults can be set at once; clear some first.`);
    this.nextId++;
    // One clock: a new shift replaces the one in force.
    if (f.surface === 'clock') for (const old of this.faults.filter((x) => x.surface === 'clock')) this.remove(old.id);
    this.faults.push(f);
    if (f.surface === 'clock') this.applyClock(f);
    else {
      this.perSurface.set(f.surface, (this.perSurface.get(f.surface) ?? 0) + 1);
      this.requestFaults++;
    }
    return this.view(f);
  }

  list(): FaultView[] {
    this.sweep();
    return this.faults.map((f) => this.view(f));
  }

  /** Removes one fault by id; false when there is none. */
  remove(id: string): boolean {
    const i = this.faults.findIndex((f) => f.id === id.toLowerCase());
    if (i < 0) return false;
    this.drop(i);
    return true;
  }

  /** Removes every fault (the clock goes back to real time); returns how many there were. */
  clear(): number {
    this.sweep();
    const n = this.faults.length;
    while (this.faults.length) this.drop(this.faults.length - 1);
    return n;
  }

  /** True when any surface may have a fault: the per-request fast path is this one comparison. */
  anyActive(): boolean {
    return this.requestFaults > 0;
  }

  active(surface: FaultSurface): boolean {
    return this.requestFaults > 0 && (this.perSurface.get(surface) ?? 0) > 0;
  }

  /** The fault this request gets, if any; taking it uses up one of its count. */
  async take(surface: FaultSurface, path: string, targetNames?: TargetNames): Promise<Fault | undefined> {
    if (!this.active(surface)) return undefined;
    this.sweep();
    const candidates = this.faults.filter((f) => f.surface === surface && (f.path === undefined || path.toLowerCase().includes(f.path)));
    if (candidates.length === 0) return undefined;
    let names: readonly string[] | undefined;
    if (candidates.some((f) => f.target !== undefined)) names = targetNames ? await targetNames() : [];
    // Looked up again: the await above may have let another request use up or clear a candidate.
    const f = candidates.find((c) => this.faults.includes(c) && (c.target === undefined || names!.includes(c.target)));
    if (!f) return undefined;
    f.applied++;
    if (f.remainingCount !== undefined && --f.remainingCount <= 0) this.remove(f.id);
    return f;
  }

  /** Stops the clock fault's timer (server shutdown). */
  close(): void {
    if (this.clockTimer) clearTimeout(this.clockTimer);
    this.clockTimer = undefined;
  }

  private view(f: Fault): FaultView {
    return { ...f, remainingMs: Math.max(0, f.expiresAt - this.now) };
  }

  private sweep(): void {
    const now = this.now;
    for (let i = this.faults.length - 1; i >= 0; i--) if (this.faults[i]!.expiresAt <= now) this.drop(i);
  }

  private drop(i: number): void {
    const [f] = this.faults.splice(i, 1);
    if (!f) return;
    if (f.surface === 'clock') {
      this.close();
      this.deps.serverClock.shift(0);
    } else {
      this.perSurface.set(f.surface, (this.perSurface.get(f.surface) ?? 1) - 1);
      this.requestFaults--;
    }
  }

  private applyClock(f: Fault): void {
    this.deps.serverClock.shift(f.shiftMs ?? 0);
    this.close();
    // The clock is read by everything, not only by requests that pass through here: expire it on a timer.
    this.clockTimer = setTimeout(() => this.sweep(), Math.max(0, f.expiresAt - this.now) + 1);
    this.clockTimer.unref();
  }
}

function validate(input: FaultInput, now: number, id: string): Fault {
  const bad = (message: string) => new KeylessError(400, 'InvalidFault', message);
  const surface = input.surface;
  if (surface !== 'clock' && !(FAULT_SURFACES as readonly string[]).includes(surface)) {
    throw bad(`Unknown surface '${String(surface)}': use one of ${[...FAULT_SURFACES, 'clock'].join(', ')}.`);
  }
  const forMs = input.forMs ?? DEFAULT_FAULT_LIFETIME_MS;
  if (!Number.isFinite(forMs) || forMs <= 0 || forMs > MAX_LIFETIME_MS) throw bad('The lifetime (for) must be more than 0 and at most 24h.');
  const f: Fault = { id, surface, createdAt: now, expiresAt: now + forMs, applied: 0 };

  if (surface === 'clock') {
    const requestOnly = (['target', 'path', 'status', 'retryAfter', 'message', 'latencyMs', 'connection', 'count'] as const).filter((k) => input[k] !== undefined);
    if (requestOnly.length) throw bad(`A clock fault takes only shift and for, not ${requestOnly.join(', ')}.`);
    if (input.shiftMs === undefined || !Number.isFinite(input.shiftMs) || input.shiftMs === 0) throw bad('A clock fault needs a non-zero shift, such as +10m or -5m.');
    if (Math.abs(input.shiftMs) > MAX_SHIFT_MS) throw bad('The clock can be shifted by at most 30 days either way.');
    f.shiftMs = Math.round(input.shiftMs);
    return f;
  }

  if (input.shiftMs !== undefined) throw bad('shift applies to the clock fault only (surface clock).');
  if (input.status === undefined && input.latencyMs === undefined && input.connection === undefined) {
    throw bad('A fault needs an effect: a status, a latency, or a connection reset/drop.');
  }
  if (input.status !== undefined) {
    if (!Number.isInteger(input.status) || input.status < 400 || input.status > 599) throw bad('status must be an HTTP error status (400-599).');
    f.status = input.status;
  }
  if (input.retryAfter !== undefined) {
    if (input.status === undefined) throw bad('retryAfter goes with a status.');
    if (!Number.isInteger(input.retryAfter) || input.retryAfter < 0 || input.retryAfter > 3600) throw bad('retryAfter must be whole seconds between 0 and 3600.');
    f.retryAfter = input.retryAfter;
  }
  if (input.message !== undefined) {
    if (input.status === undefined) throw bad('message goes with a status.');
    if (typeof input.message !== 'string' || input.message.length === 0 || input.message.length > 1024) throw bad('message must be 1-1024 characters.');
    f.message = input.message;
  }
  if (input.latencyMs !== undefined) {
    if (!Number.isFinite(input.latencyMs) || input.latencyMs <= 0 || input.latencyMs > MAX_LATENCY_MS) throw bad('latency must be more than 0 and at most 5m.');
    f.latencyMs = Math.round(input.latencyMs);
  }
  if (input.connection !== undefined) {
    if (input.connection !== 'reset' && input.connection !== 'drop') throw bad("connection must be 'reset' or 'drop'.");
    if (input.status !== undefined) throw bad('A connection reset or drop sends no status: pass one or the other.');
    f.connection = input.connection;
  }
  if (input.target !== undefined) {
    if (!TARGETED.has(surface)) throw bad(`The ${surface} surface has no target; narrow it with path instead.`);
    if (typeof input.target !== 'string' || !input.target.trim() || input.target.length > 1024) throw bad('target must be a resource name or id.');
    f.target = input.target.trim().replace(/\/+$/, '').toLowerCase();
  }
  if (input.path !== undefined) {
    if (typeof input.path !== 'string' || input.path.length === 0 || input.path.length > 512) throw bad('path must be 1-512 characters.');
    f.path = input.path.toLowerCase();
  }
  if (input.count !== undefined) {
    if (!Number.isInteger(input.count) || input.count < 1 || input.count > 1_000_000) throw bad('count must be a whole number of requests, at least 1.');
    f.remainingCount = input.count;
  }
  return f;
}

/**
 * The names a resource-backed request answers to: its resource id and its last segment (the name), so a fault
 * can say `vm1` or the full id.
 */
export function resourceNames(resourceKey: string | undefined): string[] {
  if (!resourceKey) return [];
  const key = resourceKey.toLowerCase();
  return [key, key.slice(key.lastIndexOf('/') + 1)];
}
