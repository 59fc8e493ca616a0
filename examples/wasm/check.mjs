// Independent check of the two example modules against Fabric's ABI v1, with Node's WebAssembly API (no deps).
// Run after ./build.sh:  node examples/wasm/check.mjs
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

const here = dirname(fileURLToPath(import.meta.url));
const MAX_MEMORY = 16 * 1024 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

let failures = 0;
let passes = 0;
function test(name, fn) {
  try {
    fn();
    passes++;
    console.log(`  ok   ${name}`);
  } catch (err) {
    failures++;
    console.log(`  FAIL ${name}\n       ${String(err?.message ?? err).split("\n").join("\n       ")}`);
  }
}

// --- ABI host -------------------------------------------------------------------------------------------------------

function compile(file) {
  const bytes = readFileSync(join(here, "out", file));
  const module = new WebAssembly.Module(bytes);
  return { module, size: bytes.length };
}

function checkShape(module) {
  const imports = WebAssembly.Module.imports(module);
  for (const i of imports) {
    assert.ok(i.module === "fabric" && i.name === "log" && i.kind === "function", `forbidden import ${i.module}.${i.name} (${i.kind})`);
  }
  const exports = Object.fromEntries(WebAssembly.Module.exports(module).map((e) => [e.name, e.kind]));
  assert.equal(exports.memory, "memory", "exports memory");
  assert.equal(exports.alloc, "function", "exports alloc");
  assert.equal(exports.handle, "function", "exports handle");
  return { imports, exports };
}

function instantiate(module) {
  const logs = [];
  let memory;
  const instance = new WebAssembly.Instance(module, {
    fabric: {
      log(level, ptr, len) {
        logs.push({ level, text: decoder.decode(new Uint8Array(memory.buffer, ptr, len)) });
      },
    },
  });
  memory = instance.exports.memory;
  return { exports: instance.exports, memory, logs };
}

function write(inst, bytes) {
  const ptr = inst.exports.alloc(bytes.length);
  assert.ok(ptr > 0 && ptr + bytes.length <= inst.memory.buffer.byteLength, `alloc returned ${ptr} for ${bytes.length} bytes`);
  new Uint8Array(inst.memory.buffer, ptr, bytes.length).set(bytes);
  return ptr;
}

// As the host does: a fresh instance gets init once, with "{}" when there is no config.
function start(module, config = {}) {
  const inst = instantiate(module);
  const status = init(inst, config);
  return { inst, status };
}

function init(inst, config) {
  const bytes = encoder.encode(typeof config === "string" ? config : JSON.stringify(config));
  const ptr = write(inst, bytes);
  return inst.exports.init(ptr, bytes.length);
}

let nextId = 1;
function envelope({ type, source, data, seq }) {
  // Same key order as the host writes; seq absent on ingest.
  const head = { id: `evt_${String(nextId++).padStart(6, "0")}` };
  if (seq !== undefined) head.seq = seq;
  return { ...head, type, source, time: "2026-12-02T10:00:00+00:00", data };
}

// The raw i64 handle returns for one input.
function handleRaw(inst, text) {
  const bytes = encoder.encode(text);
  const ptr = write(inst, bytes);
  const result = inst.exports.handle(ptr, bytes.length);
  assert.equal(typeof result, "bigint", "handle returns i64");
  return result;
}

// Returns "drop", "keep", {error: n} or the parsed result object.
function call(inst, event, raw) {
  return decode(inst, handleRaw(inst, raw ?? JSON.stringify(envelope(event))));
}

function decode(inst, result) {
  if (result === 0n) return "drop";
  if (result === 1n) return "keep";
  if (result < 0n) return { error: Number(result) };
  const outPtr = Number(result >> 32n);
  const outLen = Number(result & 0xffffffffn);
  assert.ok(outPtr < 2 ** 31 && outLen > 0 && outPtr + outLen <= inst.memory.buffer.byteLength, `result range [${outPtr}, +${outLen})`);
  const out = decoder.decode(new Uint8Array(inst.memory.buffer, outPtr, outLen));
  let parsed;
  try {
    parsed = JSON.parse(out);
  } catch {
    throw new Error(`result is not JSON: ${out.slice(0, 300)}`);
  }
  assert.ok(parsed && typeof parsed === "object" && !Array.isArray(parsed), `result is an object: ${out.slice(0, 300)}`);
  for (const key of Object.keys(parsed)) assert.ok(key === "type" || key === "data", `unexpected result key ${key}`);
  return parsed;
}

// A deterministic generator of awkward JSON: strings full of quotes, backslashes, brackets and non-ASCII, nesting,
// numbers in every form — so the scanners' 16-byte blocks and their byte-by-byte tails meet every case at every offset.
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), (x >>> 0) / 2 ** 32);
}
function randomValue(r, depth = 0) {
  const pick = r();
  if (depth < 4 && pick < 0.2) {
    const o = {};
    for (let i = 0, n = Math.floor(r() * 6); i < n; i++) o[randomString(r, 8)] = randomValue(r, depth + 1);
    return o;
  }
  if (depth < 4 && pick < 0.35) return Array.from({ length: Math.floor(r() * 6) }, () => randomValue(r, depth + 1));
  if (pick < 0.75) return randomString(r, 40);
  if (pick < 0.85) return Math.floor((r() - 0.5) * 1e6);
  if (pick < 0.9) return (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20);
  return [true, false, null][Math.floor(r() * 3)];
}
function randomString(r, max) {
  const alphabet = ['"', "\\", "{", "}", "[", "]", ",", ":", "\n", "\t", "é", "\u2028", "😀", "a", "b", " ", "\\\\", '\\"', "/"];
  let s = "";
  for (let i = 0, n = Math.floor(r() * max); i < n; i++) s += r() < 0.5 ? "x" : alphabet[Math.floor(r() * alphabet.length)];
  return s;
}
function randomSpacing(r) {
  return [undefined, 1, "\t", " \n "][Math.floor(r() * 4)];
}

function memoryLoop(inst, events, n) {
  const start = inst.memory.buffer.byteLength;
  let peakAfterWarmup = 0;
  for (let i = 0; i < n; i++) {
    const e = events[i % events.length];
    const result = handleRaw(inst, e.raw);
    if (i < events.length) e.expected = JSON.stringify(decode(inst, result));
    else if (i % 97 === 0) assert.equal(JSON.stringify(decode(inst, result)), e.expected, `call ${i} differs from the first`);
    const size = inst.memory.buffer.byteLength;
    assert.ok(size <= MAX_MEMORY, `memory grew to ${size} bytes after ${i + 1} calls`);
    if (i === events.length * 2) peakAfterWarmup = size;
  }
  const end = inst.memory.buffer.byteLength;
  assert.equal(end, peakAfterWarmup, `memory kept growing after warm-up: ${peakAfterWarmup} -> ${end}`);
  return { start, end };
}

// --- sample payloads (small, shaped like the real ones) -------------------------------------------------------------

const stripePaymentIntent = {
  id: "evt_3QxYz1LkdIwHu7ix0abc",
  object: "event",
  api_version: "2024-06-20",
  created: 1764669600,
  data: {
    object: {
      id: "pi_3QxYz1LkdIwHu7ix0",
      object: "payment_intent",
      amount: 2000,
      amount_received: 2000,
      currency: "eur",
      customer: "cus_QxYz1Lkd",
      metadata: { order: "A-1001", note: "quote \" and \\ and é" },
      status: "succeeded",
    },
    previous_attributes: null,
  },
  livemode: false,
  pending_webhooks: 1,
  request: { id: "req_abc", idempotency_key: "k-1" },
  type: "payment_intent.succeeded",
};

const stripeCustomerDeleted = {
  id: "evt_1",
  object: "event",
  data: { object: { id: "cus_1", object: "customer", email: "x@example.com", customer: null } },
  type: "customer.deleted",
};

const githubPullRequest = {
  action: "opened",
  number: 42,
  pull_request: { id: 1, title: "Fix {braces} in \"titles\"", user: { login: "not-the-sender" }, body: "[]{}" },
  repository: { id: 7, full_name: "acme/fabric", private: true },
  sender: { login: "octocat", id: 583231, type: "User" },
};

const githubPush = {
  ref: "refs/heads/main",
  before: "0000000000000000000000000000000000000000",
  after: "1111111111111111111111111111111111111111",
  commits: [{ id: "1111", message: "sender: {\"login\":\"fake\"}", author: { name: "Mona" } }],
  repository: { full_name: "acme/fabric" },
  pusher: { name: "mona" },
  sender: { login: "mona\"lisa", id: 1 },
};

const shopifyOrder = {
  id: 820982911946154500,
  email: "order-level@example.com",
  created_at: "2026-12-02T10:00:00-05:00",
  currency: "USD",
  total_price: "12.34",
  subtotal_price: "10.00",
  line_items: [{ id: 1, title: "T-shirt", price: "10.00", quantity: 1 }],
  customer: { id: 115310627314723950, email: "jon@example.com", first_name: "Jon" },
};

const shopifyGuestOrder = { id: 2, total_price: "5.00", customer: null, email: "guest@example.com" };
const shopifyNoEmail = { id: 3, total_price: 7 };

// --- normalise ------------------------------------------------------------------------------------------------------

function checkNormalise() {
  console.log("normalise.wasm");
  const { module, size } = compile("normalise.wasm");
  console.log(`  size ${size} bytes`);

  test("imports only fabric.log; exports memory, alloc, handle, init", () => {
    const { exports } = checkShape(module);
    assert.equal(exports.init, "function");
  });

  const { inst, status } = start(module); // "{}"
  test("init with {} returns 0 and logs once", () => {
    assert.equal(status, 0);
    assert.equal(inst.logs.length, 1);
    assert.equal(inst.logs[0].level, 1);
    assert.match(inst.logs[0].text, /^normalise: ready, 0 source mapping/);
  });

  test("stripe payment_intent.succeeded (by shape)", () => {
    const r = call(inst, { type: "payment_intent.succeeded", source: "stripe", data: stripePaymentIntent, seq: 12 });
    assert.deepEqual(r, { data: { kind: "payment_intent.succeeded", amount: 2000, actor: "cus_QxYz1Lkd" } });
  });

  test("stripe without amount, customer null -> nulls", () => {
    const r = call(inst, { type: "stripe.event", source: "stripe", data: stripeCustomerDeleted });
    assert.deepEqual(r, { data: { kind: "customer.deleted", amount: null, actor: null } });
  });

  test("github pull_request opened -> type.action, sender.login", () => {
    const r = call(inst, { type: "pull_request", source: "github", data: githubPullRequest });
    assert.deepEqual(r, { data: { kind: "pull_request.opened", amount: null, actor: "octocat" } });
  });

  test("github push (no action), escaped login kept", () => {
    const r = call(inst, { type: "push", source: "github", data: githubPush });
    assert.deepEqual(r, { data: { kind: "push", amount: null, actor: 'mona"lisa' } });
  });

  test("shopify order: total_price raw, customer.email", () => {
    const r = call(inst, { type: "orders/create", source: "shopify", data: shopifyOrder });
    assert.deepEqual(r, { data: { kind: "orders/create", amount: "12.34", actor: "jon@example.com" } });
  });

  test("shopify guest order: falls back to data.email", () => {
    const r = call(inst, { type: "orders/paid", source: "shopify", data: shopifyGuestOrder });
    assert.deepEqual(r, { data: { kind: "orders/paid", amount: "5.00", actor: "guest@example.com" } });
  });

  test("shopify numeric total_price, no email -> actor null", () => {
    const r = call(inst, { type: "orders/paid", source: "shopify", data: shopifyNoEmail });
    assert.deepEqual(r, { data: { kind: "orders/paid", amount: 7, actor: null } });
  });

  test("unrecognised payloads are kept", () => {
    assert.equal(call(inst, { type: "x.y", source: "other", data: { hello: "world", object: "not-event" } }), "keep");
    assert.equal(call(inst, { type: "x.y", source: "other", data: [1, 2, 3] }), "keep");
    assert.equal(call(inst, { type: "x.y", source: "other", data: "aGVsbG8=" }), "keep");
    assert.equal(call(inst, { type: "x.y", source: "other", data: null }), "keep");
    assert.equal(call(inst, { type: "x.y", source: "other", data: {} }), "keep");
  });

  test("key order and whitespace do not matter", () => {
    const raw = ` { "data" : { "type" : "charge.refunded" , "data" : { "object" : { "customer" : "cus_9" , "amount" : -150 } } , "object" : "event" } ,\n "source":"stripe", "type":"t", "id":"evt_x", "time":"2026-12-02T10:00:00+00:00" } `;
    assert.deepEqual(call(inst, null, raw), { data: { kind: "charge.refunded", amount: -150, actor: "cus_9" } });
  });

  test("non-ASCII and escapes stay valid JSON", () => {
    const data = { sender: { login: "jürgen\u2028\"x\"" }, action: "créé" };
    const r = call(inst, { type: "issues", source: "gh", data });
    assert.deepEqual(r, { data: { kind: "issues.créé", amount: null, actor: "jürgen\u2028\"x\"" } });
  });

  // With a config: the mapping wins over the shape; unmapped sources are still detected by shape.
  const mapped = start(module, { sources: { payments: "stripe", gh: "github", shop: "shopify" } });
  test("init with sources mapping returns 0", () => {
    assert.equal(mapped.status, 0);
    assert.match(mapped.inst.logs[0].text, /3 source mapping/);
  });

  const ambiguous = { object: "event", type: "looks.like.stripe", sender: { login: "hubot" }, action: "closed", total_price: "9.99", email: "amb@example.com" };
  test("mapping overrides shape detection", () => {
    assert.deepEqual(call(mapped.inst, { type: "evt", source: "shop", data: ambiguous }), { data: { kind: "evt", amount: "9.99", actor: "amb@example.com" } });
    assert.deepEqual(call(mapped.inst, { type: "evt", source: "gh", data: ambiguous }), { data: { kind: "evt.closed", amount: null, actor: "hubot" } });
    assert.deepEqual(call(mapped.inst, { type: "evt", source: "payments", data: ambiguous }), { data: { kind: "looks.like.stripe", amount: null, actor: null } });
    // unmapped: shape order is stripe, github, shopify
    assert.deepEqual(call(mapped.inst, { type: "evt", source: "elsewhere", data: ambiguous }), { data: { kind: "looks.like.stripe", amount: null, actor: null } });
  });

  test("mapped provider on a payload missing its fields -> nulls", () => {
    assert.deepEqual(call(mapped.inst, { type: "ping", source: "gh", data: { zen: "Keep it simple" } }), { data: { kind: "ping", amount: null, actor: null } });
  });

  test("bad configs are refused (negative)", () => {
    assert.ok(start(module, { sources: { x: "paypal" } }).status < 0, "unknown provider");
    assert.ok(start(module, { sources: { x: 1 } }).status < 0, "provider not a string");
    assert.ok(start(module, { sources: 5 }).status < 0, "sources not an object");
    assert.ok(start(module, "[]").status < 0, "not an object");
    assert.equal(start(module, { sources: null, other: [1, { a: 2 }] }).status, 0, "sources null is fine");
  });

  test("randomised payloads (escapes, nesting, block boundaries) match JSON.parse", () => {
    const r = rng(7);
    for (let i = 0; i < 1500; i++) {
      const total = randomValue(r);
      const email = randomString(r, 30);
      const shop = { [randomString(r, 6) + "_"]: randomValue(r), junk: randomValue(r), total_price: total, more: randomValue(r), customer: { x: randomValue(r), email } };
      const text = JSON.stringify(envelope({ type: "orders/create", source: "s", data: shop }), null, randomSpacing(r));
      assert.deepEqual(call(inst, null, text), { data: { kind: "orders/create", amount: total, actor: email } }, `shopify case ${i}: ${text.slice(0, 400)}`);
      const login = randomString(r, 20);
      const action = randomString(r, 12);
      const gh = { pre: randomValue(r), sender: { avatar: randomValue(r), login }, mid: randomValue(r), action };
      const text2 = JSON.stringify(envelope({ type: "issues", source: "s", data: gh }), null, randomSpacing(r));
      assert.deepEqual(call(inst, null, text2), { data: { kind: `issues.${action}`, amount: null, actor: login } }, `github case ${i}: ${text2.slice(0, 400)}`);
    }
  });

  test("20,000 calls on one instance: memory bounded, config intact", () => {
    const big = { ...shopifyOrder, line_items: Array.from({ length: 3000 }, (_, i) => ({ id: i, title: `item ${i}`, price: "1.00" })) };
    const events = [
      { type: "payment_intent.succeeded", source: "payments", data: stripePaymentIntent },
      { type: "pull_request", source: "gh", data: githubPullRequest },
      { type: "orders/create", source: "shop", data: big },
      { type: "x", source: "other", data: { a: 1 } },
      { type: "evt", source: "shop", data: ambiguous },
    ].map((e) => ({ raw: JSON.stringify(envelope(e)) }));
    const { start: s, end } = memoryLoop(mapped.inst, events, 20_000);
    console.log(`       memory ${s} -> ${end} bytes (largest input ${Math.max(...events.map((e) => e.raw.length))} bytes)`);
    assert.deepEqual(call(mapped.inst, { type: "evt", source: "shop", data: ambiguous }), { data: { kind: "evt", amount: "9.99", actor: "amb@example.com" } });
  });
}

// --- threshold ------------------------------------------------------------------------------------------------------

function checkThreshold() {
  console.log("threshold.wasm");
  const { module, size } = compile("threshold.wasm");
  console.log(`  size ${size} bytes`);

  test("imports only fabric.log; exports memory, alloc, handle, init", () => {
    const { imports, exports } = checkShape(module);
    assert.equal(exports.init, "function");
    assert.equal(imports.length, 1, "imports fabric.log");
  });

  const { inst, status } = start(module, { field: "amount", min: 1000, redact: "email" });
  test("init logs its config at level 1", () => {
    assert.equal(status, 0);
    assert.deepEqual(inst.logs, [{ level: 1, text: "threshold: field=amount min=1000 redact=email" }]);
  });

  const ev = (data) => ({ type: "order.paid", source: "shop", data });

  test("below min -> drop (integers, decimals, negatives, exponents)", () => {
    for (const amount of [999, 0, -5, 999.99, -1e9]) assert.equal(call(inst, ev({ amount, email: "a@b.c" })), "drop", `amount ${amount}`);
    assert.equal(call(inst, null, '{"type":"t","source":"s","data":{"amount":9.99e2,"email":"a"}}'), "drop", "9.99e2");
    assert.equal(call(inst, null, '{"type":"t","source":"s","data":{"amount":99999e-2}}'), "drop", "99999e-2");
  });

  test("at or above min with the key -> redacted", () => {
    const data = { id: 7, amount: 1000, email: "jon@example.com", nested: { email: "stays@example.com" }, list: ["email"] };
    const r = call(inst, ev(data));
    assert.deepEqual(r, { data: { ...data, email: "[redacted]" } });
    assert.deepEqual(call(inst, ev({ amount: 1500.5, email: { primary: "x" } })), { data: { amount: 1500.5, email: "[redacted]" } });
    assert.equal(call(inst, null, '{"type":"t","source":"s","data":{"amount":1e3}}'), "keep", "1e3");
  });

  test("raw formatting outside the redacted value is preserved", () => {
    const raw = '{"id":"e","type":"t","source":"s","time":"2026-12-02T10:00:00+00:00","data":{ "amount" : 2000.000 , "email" : "a\\"b@c" , "x":[1,{"email":2}] }}';
    const r = call(inst, null, raw);
    assert.deepEqual(r, { data: { amount: 2000, email: "[redacted]", x: [1, { email: 2 }] } });
  });

  test("above min without the key -> keep", () => {
    assert.equal(call(inst, ev({ amount: 5000, customer: { email: "nested@example.com" } })), "keep");
  });

  test("field missing or not a number -> not dropped", () => {
    assert.deepEqual(call(inst, ev({ email: "x@y.z" })), { data: { email: "[redacted]" } });
    assert.equal(call(inst, ev({ amount: "5", note: 1 })), "keep");
    assert.equal(call(inst, ev({ amount: null })), "keep");
    assert.equal(call(inst, ev([1, 2])), "keep");
    assert.equal(call(inst, ev(null)), "keep");
  });

  test("defaults: field amount, min 0, no redaction", () => {
    const d = start(module);
    assert.equal(d.status, 0);
    assert.equal(d.inst.logs[0].text, "threshold: field=amount min=0 redact=none");
    assert.equal(call(d.inst, ev({ amount: -1, email: "x" })), "drop");
    assert.equal(call(d.inst, ev({ amount: 0, email: "x" })), "keep");
  });

  test("custom field with a decimal min", () => {
    const c = start(module, { field: "total", min: 10.5 });
    assert.equal(c.status, 0);
    assert.equal(call(c.inst, ev({ total: 10.49, amount: 1e9 })), "drop");
    assert.equal(call(c.inst, ev({ total: 10.5, amount: 0 })), "keep");
  });

  test("bad configs are refused (negative)", () => {
    assert.ok(start(module, { field: 5 }).status < 0, "field not a string");
    assert.ok(start(module, { field: "" }).status < 0, "empty field");
    assert.ok(start(module, { min: "1000" }).status < 0, "min not a number");
    assert.ok(start(module, { redact: ["email"] }).status < 0, "redact not a string");
    assert.ok(start(module, "[]").status < 0, "not an object");
  });

  test("randomised payloads (escapes, nesting, block boundaries) redact exactly", () => {
    const r = rng(11);
    for (let i = 0; i < 1500; i++) {
      const data = { [randomString(r, 6) + "_"]: randomValue(r), email: randomValue(r), mid: randomValue(r), amount: 1000 + Math.floor(r() * 1e6), tail: randomValue(r) };
      const text = JSON.stringify(envelope(ev(data)), null, randomSpacing(r));
      assert.deepEqual(call(inst, null, text), { data: { ...data, email: "[redacted]" } }, `case ${i}: ${text.slice(0, 400)}`);
      const low = { pre: randomValue(r), amount: -Math.floor(r() * 1e6) + 999, email: "x" };
      assert.equal(call(inst, null, JSON.stringify(envelope(ev(low)), null, randomSpacing(r))), "drop", `low case ${i}`);
    }
  });

  test("20,000 calls on one instance: memory bounded, config intact", () => {
    const bigData = { amount: 5000, email: "big@example.com", items: Array.from({ length: 2000 }, (_, i) => ({ i, sku: `sku-${i}` })) };
    const events = [
      ev({ amount: 10, email: "a" }),
      ev({ amount: 5000, email: "b@example.com", name: "B" }),
      ev({ amount: 5000 }),
      ev(bigData),
    ].map((e) => ({ raw: JSON.stringify(envelope(e)) }));
    const { start: s, end } = memoryLoop(inst, events, 20_000);
    console.log(`       memory ${s} -> ${end} bytes (largest input ${Math.max(...events.map((e) => e.raw.length))} bytes)`);
    assert.equal(call(inst, ev({ amount: 999 })), "drop");
  });
}

checkNormalise();
checkThreshold();
console.log(failures ? `\n${failures} failed, ${passes} passed` : `\nall ${passes} passed`);
process.exit(failures ? 1 : 0);
