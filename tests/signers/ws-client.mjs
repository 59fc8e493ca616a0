// An independent WebSocket client (npm `ws`, not .NET's) exercising Fabric's socket framing: a subscribe sent in
// fragments with a ping between them, a burst of events posted while pings fly, and a close handshake under load.
// Usage: node ws-client.mjs <gateway base url> <customer> <source> <count> <credential> [subprotocol]; prints one JSON
// line with what it saw. The credential goes in access_token, as a browser sends it. With fabric.v1.batch a message
// is one frame or an array of frames, and the client reads both.
import WebSocket from 'ws';

const [base, customer, source, countText, credential, protocol = 'fabric.v1'] = process.argv.slice(2);
const count = Number(countText);
const url = base.replace(/^http/, 'ws') + `/v1/ws?customer=${encodeURIComponent(customer)}&access_token=${encodeURIComponent(credential)}`;
const socket = new WebSocket(url, protocol);
let closing = false;
const seen = { protocol: null, welcome: false, subscribed: false, seqs: [], pongs: 0, pings: 0, close: null, arrays: 0, errors: [] };

const post = (i) => fetch(`${base}/v1/webhooks/${customer}/${source}`, {
  method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ type: 'conformance', i, pad: 'x'.repeat(500) }),
});

socket.on('pong', () => { seen.pongs++; });
socket.on('error', (e) => { seen.errors.push(String(e)); });
socket.on('close', (code, reason) => {
  seen.close = { code, reason: reason.toString() };
  console.log(JSON.stringify(seen));
  process.exit(0);
});

socket.on('open', () => {
  seen.protocol = socket.protocol;
  // One text message in three fragments, with a control frame (ping) between two of them.
  socket.send('{"op":"subscribe",', { fin: false });
  socket.ping(); seen.pings++;
  socket.send('"topics":["confor', { fin: false });
  socket.send('mance"]}', { fin: true });
});

socket.on('message', async (data, isBinary) => {
  if (isBinary) { seen.errors.push('binary frame'); return; }
  const message = JSON.parse(data.toString());
  if (!Array.isArray(message)) { onFrame(message); return; }
  if (protocol !== 'fabric.v1.batch') { seen.errors.push('array without fabric.v1.batch'); return; }
  seen.arrays++;
  // Not awaited: each frame is taken in order before the next message, as a single-frame message is.
  for (const frame of message) onFrame(frame);
});

async function onFrame(frame) {
  if (frame.op === 'welcome') { seen.welcome = true; return; }
  if (frame.op === 'subscribed') {
    seen.subscribed = true;
    // Twice as many events as the client will take before it closes: the close handshake happens under load.
    for (let i = 0; i < count * 2 && socket.readyState === WebSocket.OPEN; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, count * 2 - i) }, (_, k) => post(i + k)));
      if (socket.readyState === WebSocket.OPEN && !closing) { socket.ping(); seen.pings++; }
    }
    return;
  }
  if (frame.op === 'event') {
    seen.seqs.push(frame.seq);
    if (seen.seqs.length === count) {
      // Every ping answered first (those sent while bursts were queued included), then close while events still flow.
      closing = true;
      for (let waited = 0; seen.pongs < seen.pings && waited < 5000; waited += 10) await new Promise(r => setTimeout(r, 10));
      socket.close(1000, 'done');
    }
    return;
  }
  seen.errors.push('unexpected frame ' + frame.op);
}

setTimeout(() => { seen.errors.push('timed out'); console.log(JSON.stringify(seen)); process.exit(1); }, 60000);
