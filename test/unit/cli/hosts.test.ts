import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostsBlock, replaceHostsBlock, writeHostsFile } from '../../../src/cli/hosts.js';

describe('keyless hosts: the /etc/hosts block', () => {
  const base = '127.0.0.1 localhost\n::1 localhost\n';

  it('adds one sorted, de-duplicated block and keeps the rest of the file', () => {
    const out = replaceHostsBlock(base, ['b.vault.keyless.localhost', 'A.vault.keyless.localhost', 'b.vault.keyless.localhost']);
    expect(out.startsWith(base)).toBe(true);
    expect(out).toContain('# BEGIN keyless\n127.0.0.1 a.vault.keyless.localhost\n127.0.0.1 b.vault.keyless.localhost\n# END keyless\n');
  });

  it('replaces an existing block instead of adding a second one, and removes it on request', () => {
    const once = replaceHostsBlock(base, ['x.blob.keyless.localhost']);
    const twice = replaceHostsBlock(once + '10.0.0.1 other\n', ['y.blob.keyless.localhost']);
    expect(twice.match(/# BEGIN keyless/g)).toHaveLength(1);
    expect(twice).toContain('y.blob.keyless.localhost');
    expect(twice).not.toContain('x.blob.keyless.localhost');
    expect(twice).toContain('10.0.0.1 other');
    const removed = replaceHostsBlock(twice, []);
    expect(removed).not.toContain('keyless');
    expect(removed).toContain('10.0.0.1 other');
  });

  it('prints the block alone', () => {
    expect(hostsBlock(['m.keyless.localhost'], '127.0.0.2')).toBe('# BEGIN keyless\n127.0.0.2 m.keyless.localhost\n# END keyless\n');
  });

  it('writes a file atomically with its mode kept', () => {
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'khosts-')), 'hosts');
    fs.writeFileSync(f, base, { mode: 0o644 });
    writeHostsFile(f, replaceHostsBlock(base, ['v.vault.keyless.localhost']));
    expect(fs.readFileSync(f, 'utf8')).toContain('v.vault.keyless.localhost');
    expect(fs.statSync(f).mode & 0o777).toBe(0o644);
  });
});
