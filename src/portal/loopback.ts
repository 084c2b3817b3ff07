import https from 'node:https';
import { isIP } from 'node:net';
import tls from 'node:tls';

export interface LoopbackTarget {
  /** The address the HTTPS listener is bound to (a wildcard bind is reached on loopback). */
  bindHost: string;
  port: number;
  /** Host name Keyless puts in its URLs (path-routed surfaces: ARM by path, ops). */
  publicHost: string;
  dnsSuffix: string;
  /** PEM of the CA that issued the server certificate: the loopback call verifies it like any client. */
  caPem: string;
}

/** Which surface a call is for; the Host header picks it, exactly as for an outside client. */
export type Upstream = { kind: 'arm' } | { kind: 'ops' } | { kind: 'vault'; name: string } | { kind: 'blob'; account: string };

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const MAX_RESPONSE = 16 * 1024 * 1024;

/**
 * Calls Keyless's own HTTPS listener. The portal goes through the front door rather than into the apps in
 * process, so every request it makes is routed, authenticated, authorized, audited and metered exactly as
 * one from `az` or an SDK would be — the portal has no path around RBAC.
 */
export class Loopback {
  private readonly agent: https.Agent;
  private readonly connectHost: string;

  constructor(private readonly target: LoopbackTarget) {
    this.agent = new https.Agent({ keepAlive: true, maxSockets: 32, ca: target.caPem });
    this.connectHost = target.bindHost === '0.0.0.0' ? '127.0.0.1' : target.bindHost === '::' ? '::1' : target.bindHost;
  }

  hostName(u: Upstream): string {
    const s = this.target.dnsSuffix;
    switch (u.kind) {
      // Host-routed to ARM whatever the path: the proxy cannot be pointed at another surface.
      case 'arm':
        return `management.${s}`;
      case 'ops':
        return this.target.publicHost;
      case 'vault':
        return `${u.name}.vault.${s}`;
      case 'blob':
        return `${u.account}.blob.${s}`;
    }
  }

  request(u: Upstream, input: { method: string; path: string; headers?: Record<string, string>; body?: string }): Promise<UpstreamResponse> {
    const name = this.hostName(u);
    const hostHeader = `${name.includes(':') ? `[${name}]` : name}:${this.target.port}`;
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: this.connectHost,
          port: this.target.port,
          method: input.method,
          path: input.path,
          agent: this.agent,
          // The certificate is checked against the name the Host header claims, as a browser would.
          ...(isIP(name) ? {} : { servername: name }),
          checkServerIdentity: (_host, cert) => tls.checkServerIdentity(name, cert),
          headers: {
            ...input.headers,
            host: hostHeader,
            ...(input.body !== undefined ? { 'content-length': String(Buffer.byteLength(input.body)) } : {}),
          },
          timeout: 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_RESPONSE) {
              req.destroy(new Error('upstream response too large'));
              return;
            }
            chunks.push(c);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('upstream timed out')));
      req.on('error', reject);
      if (input.body !== undefined) req.write(input.body);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
