// Baseline: bare node:http answering every request with the same bytes Keyless's IMDS returns.
import http from 'node:http';

const body = Buffer.from(process.env['BENCH_BODY'] ?? '{}');
// IMDS names itself in a Server header; the baseline sends the same bytes.
const server = process.env['BENCH_SERVER_HEADER'];
const headers = ['Content-Type', 'application/json; charset=utf-8', 'Content-Length', String(body.length), ...(server ? ['Server', server] : [])];
const httpServer = http.createServer({ keepAlive: true }, (_req, res) => {
  res.writeHead(200, headers);
  res.end(body);
});
httpServer.listen(0, '127.0.0.1', () => {
  const a = httpServer.address() as { port: number };
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${a.port}` }) + '\n');
});
process.on('SIGTERM', () => httpServer.close(() => process.exit(0)));
