import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Clock } from '../core/clock.js';
import type { FaultRegistry, FaultSurface, TargetNames } from './registry.js';
import { writeFaultResponse } from './render.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

/** A dropped request is held at most this long, so a forgotten client cannot pin a socket forever. */
const DROP_HOLD_MS = 120_000;

export interface GuardOptions {
  /** What a fault's `target` is compared with for this request (asked only when a fault has a target). */
  targetNames?: (req: IncomingMessage) => readonly string[] | Promise<readonly string[]>;
  /** The surface a request belongs to, when one listener serves two (a VM's IMDS and its /msi/token). */
  surfaceOf?: (req: IncomingMessage) => FaultSurface;
  /** Clock for the timestamps in error bodies (the server's, so a clock fault shows there too). */
  clock: Clock;
}

/**
 * Puts a surface's handler behind the fault registry. With no fault on the surface the request goes straight
 * through (one map lookup); otherwise the oldest matching fault is applied: latency first, then the injected
 * status, a connection reset, a dropped request, or — latency alone — the normal answer, late.
 */
export function withFaults(surface: FaultSurface, faults: FaultRegistry, handler: Handler, opts: GuardOptions): Handler {
  return (req, res) => {
    if (!faults.anyActive()) return handler(req, res);
    const s = opts.surfaceOf ? opts.surfaceOf(req) : surface;
    if (!faults.active(s)) return handler(req, res);
    return applyFault(s, req, res);
  };

  async function applyFault(s: FaultSurface, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const names: TargetNames | undefined = opts.targetNames ? () => opts.targetNames!(req) : undefined;
    // A target that cannot be looked up (a store hiccup) must not take the request down with it.
    const f = await faults.take(s, pathOf(req.url), names).catch(() => undefined);
    if (!f) return handler(req, res);
    if (f.connection === 'reset') return resetConnection(req.socket);
    if (f.connection === 'drop') return holdUnanswered(req.socket);
    if (f.latencyMs !== undefined) {
      await new Promise((r) => setTimeout(r, f.latencyMs).unref());
      // The client gave up while it waited: nothing left to answer.
      if (res.destroyed || req.socket.destroyed) return;
    }
    if (f.status !== undefined) return writeFaultResponse(s, req, res, f, opts.clock.now());
    return handler(req, res);
  }
}

function pathOf(url: string | undefined): string {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return q < 0 ? u : u.slice(0, q);
}

function resetConnection(socket: Socket): void {
  // An RST, not a FIN: the client sees ECONNRESET, as when a load balancer or the host kills the connection.
  // TLS sockets cannot send one (their handle is not a TCP handle): they are closed outright.
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

function holdUnanswered(socket: Socket): void {
  const timer = setTimeout(() => socket.destroy(), DROP_HOLD_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
