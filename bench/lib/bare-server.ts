/**
 * The baseline for the admission bench: a bare node:http server that reads the POST body and answers 200 with a
 * small JSON body, nothing else. Same runtime, same sockets; the ratio to it is Usher's cost.
 */
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
const body = JSON.stringify({ allow: true, sessionId: '00000000-0000-0000-0000-000000000000', kind: 'viewer', expiresAt: null });
createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
}).listen(port, '127.0.0.1');
