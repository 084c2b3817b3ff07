// Baseline: bare node:https (the same kind of certificate as Keyless) answering every request with fixed bytes.
import fs from 'node:fs';
import https from 'node:https';

const body = Buffer.from(process.env['BENCH_BODY'] ?? '{}');
const type = process.env['BENCH_CONTENT_TYPE'] ?? 'application/json; charset=utf-8';
// Extra response headers, so the baseline can send the same bytes as the server it is compared with.
const extra = Object.entries(JSON.parse(process.env['BENCH_HEADERS'] ?? '{}') as Record<string, string>);
// Built once: the baseline must not pay per request for what the server under test does not.
const headers = [...extra.flat(), 'Content-Type', type, 'Content-Length', String(body.length)];
const server = https.createServer({ keepAlive: true, cert: fs.readFileSync(process.env['BENCH_CERT']!), key: fs.readFileSync(process.env['BENCH_KEY']!) }, (req, res) => {
  // Drain any request body so uploads cost the baseline what they cost the server under test.
  req.resume();
  req.on('end', () => {
    res.writeHead(200, headers);
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => {
  const a = server.address() as { port: number };
  process.stdout.write(JSON.stringify({ url: `https://127.0.0.1:${a.port}`, pid: process.pid }) + '\n');
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
