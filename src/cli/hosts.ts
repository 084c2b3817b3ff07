import fs from 'node:fs';

const BEGIN = '# BEGIN keyless';
const END = '# END keyless';

/**
 * The hosts-file block for Keyless's host-routed names (vaults, blob accounts, management/login). Only
 * needed where `*.localhost` does not resolve natively (no systemd-resolved or libnss-myhostname).
 */
export function hostsBlock(names: string[], address = '127.0.0.1'): string {
  const unique = [...new Set(names.map((n) => n.toLowerCase()))].sort();
  return [BEGIN, ...unique.map((n) => `${address} ${n}`), END].join('\n') + '\n';
}

/** Replaces (or removes, with an empty list) the Keyless block in a hosts file's text, keeping the rest. */
export function replaceHostsBlock(text: string, names: string[], address?: string): string {
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  let rest = text;
  if (start >= 0 && end > start) rest = text.slice(0, start) + text.slice(end + END.length).replace(/^\n/, '');
  if (names.length === 0) return rest;
  return (rest.endsWith('\n') || rest === '' ? rest : rest + '\n') + hostsBlock(names, address);
}

/** Writes through a temp file and rename, so a crash never leaves a half-written /etc/hosts. */
export function writeHostsFile(file: string, text: string): void {
  const tmp = `${file}.keyless-${process.pid}`;
  const mode = fs.existsSync(file) ? fs.statSync(file).mode & 0o777 : 0o644;
  fs.writeFileSync(tmp, text, { mode });
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    // /etc/hosts is often a bind mount (containers): rename fails there, a plain write does not.
    fs.rmSync(tmp, { force: true });
    if ((e as NodeJS.ErrnoException).code !== 'EBUSY' && (e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    fs.writeFileSync(file, text);
  }
}
