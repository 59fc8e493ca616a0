// Fabric ABI v1 example: normalise Stripe, GitHub and Shopify payloads into
//   {"data":{"kind":…,"amount":…,"actor":…}}
// (the event's type is left as it is).
//
// Works on the input bytes directly (load<u8>): no AssemblyScript strings, arrays or objects are created at run time,
// so nothing goes through the runtime's allocator. String literals below are only read (UTF-16 code units, all ASCII).
// Memory is one bump arena from __heap_base:
//
//   [__heap_base .. keepEnd)  what init keeps: the config bytes and the source → provider table (never reset)
//   [keepEnd .. top)          one event: the input (alloc) and then the result (handle); reset by the next alloc
//
// Values are copied as raw JSON (string escapes intact), so the result is valid JSON whenever the input is. Keys are
// compared as raw bytes: a key spelled with escapes ("\u0061mount") is not recognised.
//
// Fuel: one pass over the payload (its nested Stripe object twice), 16 bytes per step with SIMD128 (on by default in
// Wasmtime and V8): about 6-7 fuel per input byte, so a 1 MiB webhook fits the default 10,000,000.

// The only import: fabric.log(level, ptr, len), UTF-8.
@external("fabric", "log")
declare function fabric_log(level: i32, ptr: usize, len: i32): void;

// --- providers -------------------------------------------------------------------------------------------------------

const NONE: i32 = 0;
const STRIPE: i32 = 1;
const GITHUB: i32 = 2;
const SHOPIFY: i32 = 3;

// --- arena -----------------------------------------------------------------------------------------------------------

let keepEnd: usize = 0; // start of the per-event region (0 until first use)
let top: usize = 0; // next free byte

function arenaStart(): usize {
  if (keepEnd == 0) keepEnd = (__heap_base + 15) & ~(<usize>15);
  return keepEnd;
}

// Bump-allocates n bytes (8-aligned), growing memory as needed. Returns 0 if memory cannot grow.
function bump(n: usize): usize {
  if (top == 0) top = arenaStart();
  let p = (top + 7) & ~(<usize>7);
  let end = p + n;
  if (end < p) return 0;
  let have = (<usize>memory.size()) << 16;
  if (end > have) {
    let pages = <i32>((end - have + 0xffff) >>> 16);
    if (memory.grow(pages) < 0) return 0;
  }
  top = end;
  return p;
}

// ABI: a fresh buffer for one input (or for init's config). Starts a new event: everything after keepEnd is free again.
export function alloc(len: i32): i32 {
  if (len < 0) unreachable();
  top = arenaStart();
  let p = bump(<usize>len);
  if (p == 0) unreachable(); // out of memory: trap (the host discards the instance) rather than hand out address 0
  return <i32>p;
}

// --- logging ---------------------------------------------------------------------------------------------------------

// Writes an ASCII string literal (UTF-16 in memory) as UTF-8 at p; returns the end.
function putLit(p: usize, s: string): usize {
  let n = s.length;
  let src = changetype<usize>(s);
  for (let i = 0; i < n; i++) store<u8>(p + i, <u8>load<u16>(src + (<usize>i << 1)));
  return p + n;
}

function putRaw(p: usize, src: usize, n: usize): usize {
  memory.copy(p, src, n);
  return p + n;
}

function putU32(p: usize, v: u32): usize {
  let digits: i32 = 1;
  for (let t = v; t >= 10; t /= 10) digits++;
  for (let i = digits - 1; i >= 0; i--) {
    store<u8>(p + i, <u8>(0x30 + v % 10));
    v /= 10;
  }
  return p + digits;
}

// Used instead of the standard abort (--use abort=assembly/index/abort) so the module does not import env.abort.
// Nothing here should reach it (no runtime allocations, no bounds-checked arrays), but just in case.
function abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let buf = bump(256);
  if (buf != 0) {
    let p = putLit(buf, "normalise: abort: ");
    if (message !== null) {
      let m = changetype<string>(message);
      let src = changetype<usize>(m);
      let n = min(m.length, 200);
      for (let i = 0; i < n; i++) {
        let c = load<u16>(src + (<usize>i << 1));
        store<u8>(p++, c < 0x80 ? <u8>c : 0x3f);
      }
    }
    p = putLit(p, " line ");
    p = putU32(p, line);
    fabric_log(3, buf, <i32>(p - buf));
  }
  unreachable();
}

// --- JSON scanning ---------------------------------------------------------------------------------------------------
// Every function takes [p, end) and returns a position, or 0 for "not found / malformed". Input addresses are never 0.
//
// Skipping is the hot path (fuel is about one unit per instruction): strings and containers are scanned 16 bytes at a
// time with SIMD128, the rest byte by byte. Everything is linear in the input, without recursion.

@inline function isWs(c: u32): bool {
  return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09;
}

function ws(p: usize, end: usize): usize {
  while (p < end && isWs(load<u8>(p))) p++;
  return p;
}

@inline function mask(v: v128, c: i8): i32 {
  return i8x16.bitmask(i8x16.eq(v, i8x16.splat(c)));
}

// p at the opening quote; returns the position after the closing quote.
function skipString(p: usize, end: usize): usize {
  p++;
  while (p + 16 <= end) {
    let v = v128.load(p);
    let m = mask(v, 0x22) | mask(v, 0x5c); // " or backslash
    if (m == 0) {
      p += 16;
      continue;
    }
    p += <usize>ctz(m);
    if (load<u8>(p) == 0x22) return p + 1;
    p += 2; // backslash and the escaped character (\uXXXX's hex digits are plain bytes)
  }
  while (p < end) {
    let c = load<u8>(p);
    if (c == 0x22) return p + 1;
    p += c == 0x5c ? 2 : 1;
  }
  return 0;
}

// Bit i of the result: the parity of the set bits 0..i of x (16 bits) — 1 inside a string that opened in the block.
@inline function prefixXor(x: u32): u32 {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  return x & 0xffff;
}

// p at '{' or '['; returns the position after the matching bracket. Per 16-byte block: the masks of quotes,
// backslashes and brackets; escaped characters are taken out (walking the block's backslashes, usually none); a
// prefix XOR of the quotes marks what is inside strings; brackets outside strings change the depth, walked in order
// only when the depth could reach 0 in this block.
function skipContainer(p: usize, end: usize): usize {
  let depth: u32 = 0;
  let inside: u32 = 0; // 0xffff when the previous block ended inside a string
  let carry: u32 = 0; // 1 when the previous block ended with a backslash that escapes this block's first byte
  while (p + 16 <= end) {
    let v = v128.load(p);
    let quotes = <u32>mask(v, 0x22);
    let slashes = <u32>mask(v, 0x5c);
    let escaped = carry;
    if (slashes != 0) {
      let b = slashes;
      while (b != 0) {
        let i = ctz(b);
        b &= b - 1;
        if (((escaped >> i) & 1) == 0) escaped |= <u32>2 << i;
      }
    }
    carry = escaped >> 16;
    quotes &= ~escaped;
    let strings = prefixXor(quotes) ^ inside;
    let w = v128.or(v, i8x16.splat(0x20)); // [ -> {, ] -> }
    let open = <u32>mask(w, 0x7b) & ~strings;
    let close = <u32>mask(w, 0x7d) & ~strings;
    let closes = popcnt(close);
    if (closes >= depth) {
      // The depth may reach 0 in this block: walk its brackets in order.
      let m = open | close;
      while (m != 0) {
        let i = ctz(m);
        if ((open >> i) & 1) depth++;
        else if (--depth == 0) return p + <usize>i + 1;
        m &= m - 1;
      }
    } else {
      depth = depth + popcnt(open) - closes;
    }
    inside = (strings >> 15) != 0 ? <u32>0xffff : 0; // the block's last byte is inside a string (or its opening quote)
    p += 16;
  }
  // The tail (under 16 bytes), byte by byte.
  let inString = inside != 0;
  p += <usize>carry;
  while (p < end) {
    let c = load<u8>(p);
    if (inString) {
      if (c == 0x5c) p += 2;
      else {
        if (c == 0x22) inString = false;
        p++;
      }
      continue;
    }
    if (c == 0x22) inString = true;
    else if (c == 0x7b || c == 0x5b) depth++; // { [
    else if (c == 0x7d || c == 0x5d) { // } ]
      if (--depth == 0) return p + 1;
    }
    p++;
  }
  return 0;
}

// Skips one value of any kind.
function skipValue(p: usize, end: usize): usize {
  if (p >= end) return 0;
  let c = load<u8>(p);
  if (c == 0x22) return skipString(p, end);
  if (c == 0x7b || c == 0x5b) return skipContainer(p, end);
  // number, true, false, null
  let s = p;
  while (p < end) {
    c = load<u8>(p);
    if (c == 0x2c || c == 0x7d || c == 0x5d || isWs(c)) break; // , } ]
    p++;
  }
  return p > s ? p : 0;
}

// The key just read by key(): its contents between the quotes, raw.
let mKs: usize = 0, mKe: usize = 0;

// Reads the next member's key and colon. p is just after '{' or after the previous member's value. Returns the
// position of the value, or 0 at the closing brace (or on malformed input). The caller skips the value.
function key(p: usize, end: usize): usize {
  p = ws(p, end);
  if (p < end && load<u8>(p) == 0x2c) p = ws(p + 1, end);
  if (p >= end || load<u8>(p) != 0x22) return 0;
  let q = skipString(p, end);
  if (q == 0) return 0;
  mKs = p + 1;
  mKe = q - 1;
  p = ws(q, end);
  if (p >= end || load<u8>(p) != 0x3a) return 0; // :
  p = ws(p + 1, end);
  return p < end ? p : 0;
}

// Compares the raw bytes [s, e) with an ASCII literal.
function eq(s: usize, e: usize, lit: string): bool {
  let n = lit.length;
  if (e - s != <usize>n) return false;
  let src = changetype<usize>(lit);
  for (let i = 0; i < n; i++) {
    if (<u32>load<u8>(s + i) != <u32>load<u16>(src + (<usize>i << 1))) return false;
  }
  return true;
}

function eqRaw(s: usize, e: usize, t: usize, te: usize): bool {
  let n = e - s;
  if (te - t != n) return false;
  return memory.compare(s, t, n) == 0;
}

// Finds key k in the object at [p, end) (p at '{'; end may be past the object). Returns the value's position (first
// occurrence) without skipping it, or 0.
function find(p: usize, end: usize, k: string): usize {
  if (p == 0 || p >= end || load<u8>(p) != 0x7b) return 0;
  p++;
  while (true) {
    let v = key(p, end);
    if (v == 0) return 0;
    if (eq(mKs, mKe, k)) return v;
    p = skipValue(v, end);
    if (p == 0) return 0;
  }
  return 0;
}

@inline function kindAt(p: usize, end: usize): u32 {
  return p != 0 && p < end ? <u32>load<u8>(p) : 0;
}

@inline function isStringAt(p: usize, end: usize): bool {
  return kindAt(p, end) == 0x22;
}

@inline function isObjectAt(p: usize, end: usize): bool {
  return kindAt(p, end) == 0x7b;
}

function isNumberAt(p: usize, end: usize): bool {
  let c = kindAt(p, end);
  return c == 0x2d || (c >= 0x30 && c <= 0x39);
}

// --- config: source name → provider ----------------------------------------------------------------------------------
// A table of (key start, key end, provider) triples (u32 each) kept after the config bytes.

let table: usize = 0;
let tableCount: i32 = 0;

function providerOf(s: usize, e: usize): i32 {
  if (eq(s, e, "stripe")) return STRIPE;
  if (eq(s, e, "github")) return GITHUB;
  if (eq(s, e, "shopify")) return SHOPIFY;
  return NONE;
}

// ABI: the config JSON (always an object; "{}" when none was given). 0 = ok, negative = refused:
//   -1 not an object, -2 "sources" is neither an object nor null, -3 a provider is not "stripe", "github" or "shopify",
//   -4 out of memory.
export function init(ptr: i32, len: i32): i32 {
  let s = <usize>ptr;
  let end = s + <usize>len;
  // Keep the config bytes: the per-event region now starts after them.
  arenaStart();
  if (end > keepEnd) keepEnd = (end + 15) & ~(<usize>15);
  top = keepEnd;
  tableCount = 0;

  let p = ws(s, end);
  if (!isObjectAt(p, end)) return -1;
  let os = find(p, end, "sources");
  if (os != 0) {
    let oe = skipValue(os, end);
    if (oe == 0) return -1;
    if (!isObjectAt(os, oe)) return eq(os, oe, "null") ? initDone() : -2;
    // Count, then fill the table (two linear passes over the sources object).
    let n = 0;
    let q = os + 1;
    while (true) {
      let v = key(q, oe);
      if (v == 0) break;
      q = skipValue(v, oe);
      if (q == 0) return -1;
      n++;
    }
    table = bump(<usize>n * 12);
    if (table == 0) return -4;
    q = os + 1;
    while (true) {
      let v = key(q, oe);
      if (v == 0) break;
      let ks = mKs, ke = mKe;
      q = skipValue(v, oe);
      if (!isStringAt(v, q)) return -3;
      let provider = providerOf(v + 1, q - 1);
      if (provider == NONE) return -3;
      let row = table + <usize>tableCount * 12;
      store<u32>(row, <u32>ks);
      store<u32>(row, <u32>ke, 4);
      store<u32>(row, <u32>provider, 8);
      tableCount++;
    }
    keepEnd = (top + 15) & ~(<usize>15);
    top = keepEnd;
  }
  return initDone();
}

function initDone(): i32 {
  let buf = bump(64);
  if (buf != 0) {
    let p = putLit(buf, "normalise: ready, ");
    p = putU32(p, <u32>tableCount);
    p = putLit(p, " source mapping(s)");
    fabric_log(1, buf, <i32>(p - buf));
  }
  return 0;
}

function mapped(s: usize, e: usize): i32 {
  for (let i = 0; i < tableCount; i++) {
    let row = table + <usize>i * 12;
    if (eqRaw(s, e, <usize>load<u32>(row), <usize>load<u32>(row, 4))) return load<u32>(row, 8);
  }
  return NONE;
}

// --- handle ----------------------------------------------------------------------------------------------------------

// data's top-level values every provider needs (start, end; 0 when absent), found in the one pass over data.
let objS: usize = 0, objE: usize = 0; // "object"
let dtS: usize = 0, dtE: usize = 0; // "type"
let ddS: usize = 0, ddE: usize = 0; // "data"
let sendS: usize = 0, sendE: usize = 0; // "sender"
let actS: usize = 0, actE: usize = 0; // "action"
let totS: usize = 0, totE: usize = 0; // "total_price"
let cusS: usize = 0, cusE: usize = 0; // "customer"
let emS: usize = 0, emE: usize = 0; // "email"

// Reads data's members (p at its '{'); returns the position after data, or 0 if malformed.
function scanData(p: usize, end: usize): usize {
  objS = objE = dtS = dtE = ddS = ddE = sendS = sendE = actS = actE = totS = totE = cusS = cusE = emS = emE = 0;
  let q = p + 1;
  while (true) {
    let v = key(q, end);
    if (v == 0) break;
    let ks = mKs, ke = mKe;
    q = skipValue(v, end);
    if (q == 0) return 0;
    if (objS == 0 && eq(ks, ke, "object")) { objS = v; objE = q; }
    else if (dtS == 0 && eq(ks, ke, "type")) { dtS = v; dtE = q; }
    else if (ddS == 0 && eq(ks, ke, "data")) { ddS = v; ddE = q; }
    else if (sendS == 0 && eq(ks, ke, "sender")) { sendS = v; sendE = q; }
    else if (actS == 0 && eq(ks, ke, "action")) { actS = v; actE = q; }
    else if (totS == 0 && eq(ks, ke, "total_price")) { totS = v; totE = q; }
    else if (cusS == 0 && eq(ks, ke, "customer")) { cusS = v; cusE = q; }
    else if (emS == 0 && eq(ks, ke, "email")) { emS = v; emE = q; }
  }
  q = ws(q, end);
  return q < end && load<u8>(q) == 0x7d ? q + 1 : 0;
}

// Writes a value range, or null when the range is empty.
function putValue(p: usize, s: usize, e: usize): usize {
  if (s == 0 || e <= s) return putLit(p, "null");
  return putRaw(p, s, e - s);
}

// ABI: 1 = keep (not a payload this module knows); otherwise (ptr << 32) | len of {"data":{"kind","amount","actor"}}.
export function handle(ptr: i32, len: i32): i64 {
  let s = <usize>ptr;
  let end = s + <usize>len;
  let p = ws(s, end);
  if (!isObjectAt(p, end)) return 1;

  // The envelope: type, source and data, in one pass; data's own members are read on the way.
  let ts: usize = 0, te: usize = 0, ss: usize = 0, se: usize = 0;
  let haveData = false;
  let q = p + 1;
  while (true) {
    let v = key(q, end);
    if (v == 0) break;
    if (!haveData && eq(mKs, mKe, "data")) {
      if (load<u8>(v) != 0x7b) return 1; // not an object: nothing to normalise
      q = scanData(v, end);
      haveData = true;
    } else {
      let ks = mKs, ke = mKe;
      q = skipValue(v, end);
      if (ts == 0 && eq(ks, ke, "type")) { ts = v; te = q; }
      else if (ss == 0 && eq(ks, ke, "source")) { ss = v; se = q; }
    }
    if (q == 0) return 1; // malformed: leave the event alone
  }
  if (!haveData || !isStringAt(ts, te)) return 1;

  // Which provider: the config's mapping for this source, else the payload's shape.
  let provider = NONE;
  if (tableCount > 0 && isStringAt(ss, se)) provider = mapped(ss + 1, se - 1);
  if (provider == NONE) {
    if (objS != 0 && eq(objS, objE, "\"event\"")) provider = STRIPE;
    else if (isObjectAt(sendS, sendE)) provider = GITHUB;
    else if (totS != 0) provider = SHOPIFY;
    else return 1;
  }

  // kind: a JSON string, either one raw value (kS..kE) or "<type>.<action>" (kind2).
  let kS = ts, kE = te;
  let kind2 = false;
  let aS: usize = 0, aE: usize = 0; // amount
  let uS: usize = 0, uE: usize = 0; // actor

  if (provider == STRIPE) {
    if (isStringAt(dtS, dtE)) { kS = dtS; kE = dtE; }
    // data.data.object.{amount, customer}: one pass over object's members.
    let o = find(ddS, ddE, "object");
    if (isObjectAt(o, ddE)) {
      let seenA = false, seenU = false;
      q = o + 1;
      while (!(seenA && seenU)) {
        let v = key(q, ddE);
        if (v == 0) break;
        let ks = mKs, ke = mKe;
        q = skipValue(v, ddE);
        if (q == 0) break;
        if (!seenA && eq(ks, ke, "amount")) {
          seenA = true;
          if (isNumberAt(v, q)) { aS = v; aE = q; }
        } else if (!seenU && eq(ks, ke, "customer")) {
          seenU = true;
          if (isStringAt(v, q)) { uS = v; uE = q; }
        }
      }
    }
  } else if (provider == GITHUB) {
    kind2 = isStringAt(actS, actE);
    let v = find(sendS, sendE, "login");
    if (isStringAt(v, sendE)) { uS = v; uE = skipString(v, sendE); }
  } else {
    if (totS != 0) { aS = totS; aE = totE; }
    let v = find(cusS, cusE, "email");
    if (isStringAt(v, cusE)) { uS = v; uE = skipString(v, cusE); }
    else if (isStringAt(emS, emE)) { uS = emS; uE = emE; }
  }

  // {"data":{"kind":K,"amount":A,"actor":U}}: 37 bytes of punctuation, 4 for each null, and the values.
  let size: usize = <usize>64 + (kE - kS) + (aE - aS) + (uE - uS) + (kind2 ? actE - actS : 0);
  let out = bump(size);
  if (out == 0) return -2;
  let w = putLit(out, "{\"data\":{\"kind\":");
  if (kind2) {
    w = putRaw(w, kS, kE - kS - 1); // "type   (without its closing quote)
    store<u8>(w++, 0x2e); // .
    w = putRaw(w, actS + 1, actE - actS - 1); // action"   (without its opening quote)
  } else {
    w = putRaw(w, kS, kE - kS);
  }
  w = putLit(w, ",\"amount\":");
  w = putValue(w, aS, aE);
  w = putLit(w, ",\"actor\":");
  w = putValue(w, uS, uE);
  w = putLit(w, "}}");
  return (<i64>out << 32) | <i64>(w - out);
}
