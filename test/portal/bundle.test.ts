import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

describe('portal bundle (npm run build:portal)', () => {
  it('builds app.js and app.css with esbuild, self-contained: no CDN, no web fonts, no remote URLs', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'keyless-portal-bundle-'));
    try {
      const started = Date.now();
      const log = execFileSync(process.execPath, ['--import', 'tsx', 'src/portal/build-cli.ts', out], { encoding: 'utf8' });
      expect(log).toContain('app.js');
      expect(Date.now() - started).toBeLessThan(20_000);
      const js = fs.readFileSync(path.join(out, 'app.js'), 'utf8');
      const css = fs.readFileSync(path.join(out, 'app.css'), 'utf8');
      expect(js.length).toBeGreaterThan(10_000);
      expect(js.length).toBeLessThan(400_000);
      for (const text of [js, css]) {
        expect(text).not.toMatch(/https?:\/\/(?!www\.w3\.org\/)[a-z0-9.-]+/i);
        expect(text).not.toMatch(/@import|@font-face/);
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
