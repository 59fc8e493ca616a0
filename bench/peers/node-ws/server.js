// Node peer: the plain `ws` broadcast server a user might write instead of Fabric.
//   GET  /ws         WebSocket
//   POST /broadcast  sends the body to every open socket
// Usage: node server.js [port]
const http = require('node:http');
const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.argv[2] ?? 5093);
const wss = new WebSocketServer({ noServer: true });

const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/broadcast') {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const message = Buffer.concat(chunks).toString('utf8');
    for (const client of wss.clients) {
      if (client.readyState === WebSocket.OPEN) client.send(message);
    }
    res.writeHead(202).end();
  });
});

server.on('upgrade', (req, socket, head) => {
  if (req.url !== '/ws') {
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});

server.listen(port, '127.0.0.1', () => console.log(`node-ws listening on ${port}`));
