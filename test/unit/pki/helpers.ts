import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile, spawnSync } from 'node:child_process';

export function tempDir(prefix = 'keyless-pki-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export const mode = (file: string): number => fs.statSync(file).mode & 0o777;

/** Tool-dependent tests skip only when the tool is missing and the run does not demand everything. */
export function toolAvailable(cmd: string, args: string[]): boolean {
  const ok = spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
  return ok || process.env.KEYLESS_REQUIRE_ALL === '1';
}

export function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
