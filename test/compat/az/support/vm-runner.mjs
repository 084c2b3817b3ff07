// Runs inside an isolated VM (keyless run --isolated): executes commands sent as JSON lines on stdin and
// answers with JSON lines on stdout, so one namespace serves a whole test file instead of one per command.
// Request: {"id":1,"cmd":"az","args":["login","--identity"],"env":{…}}  Reply: {"id":1,"code":0,"stdout":"…","stderr":"…"}
import { execFile } from 'node:child_process';
import { createInterface } from 'node:readline';

process.stdout.write(JSON.stringify({ ready: true }) + '\n');
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  let req;
  try {
    req = JSON.parse(line);
  } catch {
    return;
  }
  execFile(req.cmd, req.args ?? [], { env: { ...process.env, ...(req.env ?? {}) }, maxBuffer: 64 * 1024 * 1024, timeout: req.timeoutMs ?? 120_000 }, (err, stdout, stderr) => {
    const code = err ? (typeof err.code === 'number' ? err.code : err.code === 'ENOENT' ? 127 : 1) : 0;
    process.stdout.write(JSON.stringify({ id: req.id, code, stdout: String(stdout), stderr: String(stderr) }) + '\n');
  });
});
rl.on('close', () => process.exit(0));
