import http from 'node:http';
import type { AddressInfo } from 'node:net';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> | void;

/**
 * One HTTP listener per VM, each on the VM's own loopback address: the address a request arrives on is
 * what tells Keyless which VM is asking (caller binding), as the link-local address does on Azure.
 */
export class ImdsListeners {
  private readonly servers = new Map<string, { server: http.Server; hostKey: string; port: number }>();
  private readonly byHost = new Map<string, string>();

  /** Told when an address is already taken (e.g. by another replica on the same host). */
  onBindConflict?: (address: string, hostKey: string) => void;

  constructor(
    private readonly handler: Handler,
    private readonly opts: { port: number },
  ) {}

  /** Makes the bound set equal `bindings` (address → host key): binds new VMs, closes deleted ones. */
  async sync(bindings: Map<string, string>): Promise<void> {
    for (const [address, entry] of [...this.servers]) {
      if (bindings.get(address) !== entry.hostKey) await this.unbind(address);
    }
    for (const [address, hostKey] of bindings) {
      if (this.servers.has(address)) continue;
      try {
        await this.bind(address, hostKey);
      } catch (e) {
        // Another replica on this machine already serves that VM's address: it answers for the VM.
        if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
        this.onBindConflict?.(address, hostKey);
      }
    }
  }

  private async bind(address: string, hostKey: string): Promise<void> {
    const server = http.createServer({ keepAlive: true }, (req, res) => void this.handler(req, res));
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, address, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;
    this.servers.set(address, { server, hostKey, port });
    this.byHost.set(hostKey, address);
  }

  private async unbind(address: string): Promise<void> {
    const entry = this.servers.get(address);
    if (!entry) return;
    this.servers.delete(address);
    if (this.byHost.get(entry.hostKey) === address) this.byHost.delete(entry.hostKey);
    entry.server.closeAllConnections();
    await new Promise<void>((resolve) => entry.server.close(() => resolve()));
  }

  hostFor(localAddress: string, _localPort: number): string | undefined {
    // IPv4-mapped addresses appear when the socket is dual-stack.
    const addr = localAddress.startsWith('::ffff:') ? localAddress.slice(7) : localAddress;
    return this.servers.get(addr)?.hostKey;
  }

  endpointFor(hostKey: string): string | undefined {
    const address = this.byHost.get(hostKey.toLowerCase());
    const entry = address ? this.servers.get(address) : undefined;
    return entry ? `http://${address}:${entry.port}` : undefined;
  }

  async closeAll(): Promise<void> {
    for (const address of [...this.servers.keys()]) await this.unbind(address);
  }
}

/** VM number n → 127.77.x.y; n starts at 1 and never reuses an address within one data directory. */
export function imdsAddressFor(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 65_534) throw new Error(`IMDS address space exhausted (${n})`);
  return `127.77.${Math.floor(n / 256)}.${n % 256}`;
}
