// Baseline: bare node:http answering every request with the same bytes Keyless's IMDS returns.
import http from 'node:http';

const body = Buffer.from(process.env['BENCH_BODY'] ?? '{}');
const server = http.createServer({ keepAlive: true }, (_req, res) => {
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => {
  const a = server.address() as { port: number };
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${a.port}` }) + '\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
