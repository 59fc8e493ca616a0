// A minimal Fabric socket client: node scripts/listen.mjs [customer] [topic] [since]
// Node 22+ has WebSocket built in; on Node 20 run it with --experimental-websocket.
// The credential (an API key with the subscribe scope, or a connection token) comes from FABRIC_TOKEN; the default is
// the quick start's seeded key for acme. It travels in access_token, as a browser sends it (it cannot set headers).
const [customer = 'acme', topic = '*', since] = process.argv.slice(2);
const base = process.env.FABRIC_URL ?? 'ws://localhost:5000';
const token = process.env.FABRIC_TOKEN ?? 'fab~acme~key_quickstart~dev-only-not-a-secret';
const ws = new WebSocket(`${base}/v1/ws?customer=${encodeURIComponent(customer)}&access_token=${encodeURIComponent(token)}`, 'fabric.v1');
ws.onopen = () => ws.send(JSON.stringify({ op: 'subscribe', topics: [topic], ...(since ? { since: Number(since) } : {}) }));
ws.onmessage = (m) => console.log(m.data);
ws.onclose = (e) => console.log(`closed ${e.code} ${e.reason}`);
