// The stamp that ties dist/bundle/ to the sources it was built from: the newest mtime and the count of every
// file and directory under src/, and package-lock.json's mtime (the bundle holds the dependencies' code). A directory's mtime moves when a file in it is added, removed or renamed
// into place, so edits, new files and deletions all change the stamp. Walking ~300 entries takes ~1-2 ms,
// which keeps the check cheap enough to run at every `keyless` start.
import fs from 'node:fs';
import path from 'node:path';

/** @param {string} root the checkout (the directory holding src/) */
export function sourceStamp(root) {
  let newest = 0;
  let count = 0;
  const walk = (dir) => {
    const st = fs.statSync(dir);
    newest = Math.max(newest, st.mtimeMs);
    count++;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else {
        newest = Math.max(newest, fs.statSync(p).mtimeMs);
        count++;
      }
    }
  };
  walk(path.join(root, 'src'));
  let lock = 0;
  try {
    lock = fs.statSync(path.join(root, 'package-lock.json')).mtimeMs;
  } catch {
    // A checkout without a lockfile: the sources alone decide.
  }
  return `${newest}:${count}:${lock}`;
}
