import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../core/clock.js';

/**
 * Azure IMDS's rate limits, per VM: the managed-identity endpoint takes 20 requests a second and 5 at a time;
 * the rest of IMDS (instance metadata, versions) 5 a second. Over the limit IMDS answers 429 with its error
 * body and Retry-After. Off unless configured (imdsThrottle): test suites ask for tokens far faster than that.
 */
export const IMDS_LIMITS = { identityPerSecond: 20, identityConcurrent: 5, metadataPerSecond: 5 } as const;

interface VmWindow {
  second: number;
  identity: number;
  metadata: number;
  inFlight: number;
}

export class ImdsThrottle {
  private readonly vms = new Map<string, VmWindow>();

  constructor(
    /** Real time: a clock fault must not open or close the window. */
    private readonly clock: Clock,
    private readonly limits: { identityPerSecond: number; identityConcurrent: number; metadataPerSecond: number } = IMDS_LIMITS,
  ) {}

  /**
   * Counts a request against its VM; undefined when it may proceed, else why not. An admitted identity request
   * holds one of the VM's concurrent slots until `release` is called.
   */
  admit(hostKey: string, identity: boolean): { reason: string } | undefined {
    const second = Math.floor(this.clock.now() / 1000);
    let w = this.vms.get(hostKey);
    if (!w) {
      // Forget VMs that have been quiet, so the map does not grow with every VM ever seen.
      if (this.vms.size > 10_000) for (const [k, v] of this.vms) if (v.inFlight === 0) this.vms.delete(k);
      this.vms.set(hostKey, (w = { second, identity: 0, metadata: 0, inFlight: 0 }));
    }
    if (w.second !== second) {
      w.second = second;
      w.identity = 0;
      w.metadata = 0;
    }
    if (!identity) {
      if (w.metadata >= this.limits.metadataPerSecond) return { reason: `more than ${this.limits.metadataPerSecond} requests per second` };
      w.metadata++;
      return undefined;
    }
    if (w.inFlight >= this.limits.identityConcurrent) return { reason: `more than ${this.limits.identityConcurrent} concurrent token requests` };
    if (w.identity >= this.limits.identityPerSecond) return { reason: `more than ${this.limits.identityPerSecond} token requests per second` };
    w.identity++;
    w.inFlight++;
    return undefined;
  }

  release(hostKey: string): void {
    const w = this.vms.get(hostKey);
    if (w && w.inFlight > 0) w.inFlight--;
  }

  /** The IMDS handler's `intercept` hook: answers 429 itself when the VM is over its limits. */
  intercept(req: IncomingMessage, res: ServerResponse, hostKey: string): boolean {
    const identity = /^\/+metadata\/identity\//i.test(req.url ?? '');
    const refused = this.admit(hostKey, identity);
    if (!refused) {
      // 'close' comes after the response is sent and also when the client hangs up first.
      if (identity) res.once('close', () => this.release(hostKey));
      return false;
    }
    const text = JSON.stringify({ error: 'too_many_requests', error_description: `Too many requests: IMDS allows ${refused.reason} per VM. Retry after the Retry-After interval.` });
    res.writeHead(429, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Retry-After': '1', Server: 'IMDS/150.870.65.1854' });
    res.end(text);
    return true;
  }
}
