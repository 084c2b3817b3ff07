import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULTS, resolveConfig } from '../../../src/server/config.js';

describe('configuration precedence and validation', () => {
  const file = (content: string) => {
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kcfg-')), 'keyless.yaml');
    fs.writeFileSync(f, content);
    return f;
  };

  it('defaults when nothing is given', () => {
    expect(resolveConfig({ env: {} })).toEqual(DEFAULTS);
  });

  it('flags beat environment beat config file', () => {
    const f = file('port: 1111\nimdsPort: 2222\ndnsSuffix: from-file.test\n');
    const c = resolveConfig({ configFile: f, env: { KEYLESS_PORT: '3333', KEYLESS_IMDS_PORT: '4444' }, flags: { port: '5555' } });
    expect(c.port).toBe(5555);
    expect(c.imdsPort).toBe(4444);
    expect(c.dnsSuffix).toBe('from-file.test');
  });

  it('an unknown authorization mode fails start-up', () => {
    expect(() => resolveConfig({ env: { KEYLESS_AUTHZ: 'maybe' } })).toThrow(ConfigError);
    expect(resolveConfig({ env: {}, flags: { authzMode: 'audit' } }).authzMode).toBe('audit');
  });

  it.each([
    [{ port: '70000' }, /port/],
    [{ tokenLifetimeSec: '60' }, /between 600/],
    [{ dnsSuffix: 'not a name' }, /DNS name/],
    [{ memory: 'perhaps' }, /true or false/],
    [{ logLevel: 'loud' }, /log level/],
  ])('refuses %o', (flags, msg) => {
    expect(() => resolveConfig({ env: {}, flags })).toThrow(msg);
  });

  it('refuses unknown keys and non-mappings in the config file', () => {
    expect(() => resolveConfig({ env: {}, configFile: file('prot: 1\n') })).toThrow(/unknown setting 'prot'/);
    expect(() => resolveConfig({ env: {}, configFile: file('- a\n- b\n') })).toThrow(/mapping/);
  });
});
