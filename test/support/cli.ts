import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runChild } from './child.js';

export const KEYLESS_BIN = path.resolve(import.meta.dirname, '../../bin/keyless.js');

export interface ServedKeyless {
  dataDir: string;
  ready: any;
  process: ChildProcess;
  cli(args: string[], env?: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

/** `keyless serve --json` as a user runs it, in its own process, on ephemeral ports. */
export async function serveKeyless(extraArgs: string[] = []): Promise<ServedKeyless> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-cli-'));
  const child = spawn(process.execPath, [KEYLESS_BIN, 'serve', '--json', '--data-dir', dataDir, '--port', '0', '--imds-port', '0', '--msi-port', '0', '--tls-dir', process.env['KEYLESS_TEST_TLS_DIR']!, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KEYLESS_LOG_LEVEL: 'warn' },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const ready = await new Promise<any>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`keyless serve did not become ready: ${stderr}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line));
      }
    });
    child.on('exit', (code) => reject(new Error(`keyless serve exited with ${code}: ${stderr}`)));
  });
  return {
    dataDir,
    ready,
    process: child,
    // The data dir travels in the environment, so it never lands after a `--` that starts a child command.
    cli: (args, env = {}) => runChild(process.execPath, [KEYLESS_BIN, ...args], { KEYLESS_DATA_DIR: dataDir, ...env }),
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
