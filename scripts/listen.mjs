// A minimal Fabric socket client: node scripts/listen.mjs [customer] [topic] [since]
// Node 22+ has WebSocket built in; on Node 20 run it with --experimental-websocket.
const [customer = 'acme', topic = '*', since] = process.argv.slice(2);
const base = process.env.FABRIC_URL ?? 'ws://localhost:5000';
const ws = new WebSocket(`${base}/v1/ws?customer=${encodeURIComponent(customer)}`, 'fabric.v1');
ws.onopen = () => ws.send(JSON.stringify({ op: 'subscribe', topics: [topic], ...(since ? { since: Number(since) } : {}) }));
ws.onmessage = (m) => console.log(m.data);
ws.onclose = (e) => console.log(`closed ${e.code} ${e.reason}`);
