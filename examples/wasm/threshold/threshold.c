/*
 * Fabric ABI v1 example: drop events whose data[field] is a number below min, redact one top-level key.
 *
 * Config (init): {"field":"amount","min":1000,"redact":"email"}; defaults field "amount", min 0, no redaction.
 * handle:
 *   data[field] is a JSON number < min              -> 0 (drop)
 *   else data has the top-level key `redact`         -> {"data": <data, that key's value replaced by "[redacted]">}
 *   else                                             -> 1 (keep)
 *
 * No libc: built with clang --target=wasm32 -nostdlib -msimd128 -mbulk-memory (see build.sh). The only import is
 * fabric.log.
 *
 * Fuel: one pass over the payload, 16 bytes per step with SIMD128 (on by default in Wasmtime and V8), and memory.copy
 * for the result (which Wasmtime charges per byte): about 6-8 fuel per input byte, so a 1 MiB webhook fits the default
 * 10,000,000.
 *
 * Memory: a bump arena from __heap_base. Every alloc starts a new event, so it resets the arena; handle's result (and
 * the list of redacted ranges before it) is bumped after the input and stays valid until the next alloc. The config is copied into globals by init, so nothing
 * needs to survive a reset.
 *
 * Keys are compared as raw bytes (between the quotes): a key spelled with escapes ("\u0061mount") does not match
 * "amount". Values are copied raw, so the result is valid JSON whenever the input is.
 */

typedef unsigned char u8;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef __SIZE_TYPE__ size_t;
typedef __UINTPTR_TYPE__ uptr;

#include <wasm_simd128.h> /* clang's own header: SIMD128 intrinsics, no libc */

#define EXPORT(name) __attribute__((export_name(name)))

__attribute__((import_module("fabric"), import_name("log"))) void fabric_log(int level, const u8 *ptr, int len);

/* --- arena ------------------------------------------------------------------------------------------------------- */

extern u8 __heap_base;
static uptr top;

static u8 *bump(size_t n) {
    uptr p = (top + 7) & ~(uptr)7;
    uptr end = p + n;
    if (end < p) return 0;
    uptr have = (uptr)__builtin_wasm_memory_size(0) << 16;
    if (end > have) {
        if (__builtin_wasm_memory_grow(0, (end - have + 0xffff) >> 16) == (size_t)-1) return 0;
    }
    top = end;
    return (u8 *)p;
}

EXPORT("alloc") int alloc(int len) {
    if (len < 0) __builtin_trap();
    top = (uptr)&__heap_base;
    u8 *p = bump((size_t)len);
    if (!p) __builtin_trap(); /* out of memory: trap (the host discards the instance) rather than return address 0 */
    return (int)(uptr)p;
}

/* --- JSON scanning: [p, end) in, a position out; 0 for "not found / malformed" ------------------------------------
 * Skipping is the hot path (fuel is about one unit per instruction): strings and containers are scanned 16 bytes at a
 * time with SIMD128, the rest byte by byte. Everything is linear in the input, without recursion. */

static int is_ws(u8 c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

static const u8 *ws(const u8 *p, const u8 *end) {
    while (p < end && is_ws(*p)) p++;
    return p;
}

static inline u32 mask(v128_t v, u8 c) { return (u32)wasm_i8x16_bitmask(wasm_i8x16_eq(v, wasm_i8x16_splat((int8_t)c))); }

/* p at the opening quote; returns the position after the closing quote. */
static const u8 *skip_string(const u8 *p, const u8 *end) {
    p++;
    while (p + 16 <= end) {
        v128_t v = wasm_v128_load(p);
        u32 m = mask(v, '"') | mask(v, '\\');
        if (!m) { p += 16; continue; }
        p += __builtin_ctz(m);
        if (*p == '"') return p + 1;
        p += 2; /* backslash and the escaped character (\uXXXX's hex digits are plain bytes) */
    }
    while (p < end) {
        if (*p == '"') return p + 1;
        p += *p == '\\' ? 2 : 1;
    }
    return 0;
}

/* Bit i: the parity of bits 0..i of x (16 bits) — 1 inside a string opened in the block. */
static inline u32 prefix_xor(u32 x) {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    return x & 0xffff;
}

/* p at '{' or '['; returns the position after the matching bracket. Per 16-byte block: the masks of quotes,
 * backslashes and brackets; escaped characters are taken out (walking the block's backslashes, usually none); a
 * prefix XOR of the quotes marks what is inside strings; brackets outside strings change the depth, walked in order
 * only when the depth could reach 0 in this block. */
static const u8 *skip_container(const u8 *p, const u8 *end) {
    u32 depth = 0;
    u32 inside = 0; /* 0xffff when the previous block ended inside a string */
    u32 carry = 0;  /* 1 when the previous block ended with a backslash escaping this block's first byte */
    while (p + 16 <= end) {
        v128_t v = wasm_v128_load(p);
        u32 quotes = mask(v, '"');
        u32 escaped = carry;
        for (u32 b = mask(v, '\\'); b; b &= b - 1) {
            int i = __builtin_ctz(b);
            if (!(escaped >> i & 1)) escaped |= 2u << i;
        }
        carry = escaped >> 16;
        quotes &= ~escaped;
        u32 strings = prefix_xor(quotes) ^ inside;
        v128_t w = wasm_v128_or(v, wasm_i8x16_splat(0x20)); /* [ -> {, ] -> } */
        u32 open = mask(w, '{') & ~strings;
        u32 close = mask(w, '}') & ~strings;
        u32 closes = (u32)__builtin_popcount(close);
        if (closes >= depth) {
            /* The depth may reach 0 in this block: walk its brackets in order. */
            for (u32 m = open | close; m; m &= m - 1) {
                int i = __builtin_ctz(m);
                if (open >> i & 1) depth++;
                else if (--depth == 0) return p + i + 1;
            }
        } else {
            depth += (u32)__builtin_popcount(open) - closes;
        }
        inside = strings >> 15 ? 0xffff : 0; /* the block's last byte is inside a string (or its opening quote) */
        p += 16;
    }
    /* The tail (under 16 bytes), byte by byte. */
    int in_string = inside != 0;
    p += carry;
    while (p < end) {
        u8 c = *p;
        if (in_string) {
            if (c == '\\') p += 2;
            else { if (c == '"') in_string = 0; p++; }
            continue;
        }
        if (c == '"') in_string = 1;
        else if (c == '{' || c == '[') depth++;
        else if (c == '}' || c == ']') { if (--depth == 0) return p + 1; }
        p++;
    }
    return 0;
}

/* Skips one value of any kind. */
static const u8 *skip_value(const u8 *p, const u8 *end) {
    if (p >= end) return 0;
    if (*p == '"') return skip_string(p, end);
    if (*p == '{' || *p == '[') return skip_container(p, end);
    const u8 *s = p;
    while (p < end && *p != ',' && *p != '}' && *p != ']' && !is_ws(*p)) p++;
    return p > s ? p : 0;
}

/* One object member: key contents (raw, without the quotes) and the value's range. */
typedef struct { const u8 *ks, *ke, *vs, *ve; } member_t;

/* Reads the next member's key and colon; p is just after '{' or after the previous member's value. Returns the
 * value's position (the caller skips it), or 0 at the closing brace (or on malformed input). */
static const u8 *key(const u8 *p, const u8 *end, member_t *m) {
    p = ws(p, end);
    if (p < end && *p == ',') p = ws(p + 1, end);
    if (p >= end || *p != '"') return 0;
    const u8 *q = skip_string(p, end);
    if (!q) return 0;
    m->ks = p + 1;
    m->ke = q - 1;
    p = ws(q, end);
    if (p >= end || *p != ':') return 0;
    p = ws(p + 1, end);
    return p < end ? (m->vs = p) : 0;
}

/* key() and the value skipped: the position after the value, or 0 at the end of the object. */
static const u8 *member(const u8 *p, const u8 *end, member_t *m) {
    if (!(p = key(p, end, m))) return 0;
    return m->ve = skip_value(p, end);
}

static int eq(const u8 *s, const u8 *e, const u8 *t, size_t n) {
    if ((size_t)(e - s) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != t[i]) return 0;
    return 1;
}

static int eq_lit(const u8 *s, const u8 *e, const char *lit) {
    size_t n = 0;
    while (lit[n]) n++;
    return eq(s, e, (const u8 *)lit, n);
}

/* A JSON number at [p, end) as a double: sign, up to 19 significant digits, the rest as a decimal exponent.
 * Returns 1 if [p, end) is a number. Exact for integers below 2^53 and close enough for comparing decimals. */
static int parse_number(const u8 *p, const u8 *end, double *out) {
    int neg = 0, digits = 0, exp10 = 0, any = 0;
    u64 mant = 0;
    if (p < end && *p == '-') { neg = 1; p++; }
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        any = 1;
        if (digits < 19) { mant = mant * 10 + (u64)(*p - '0'); if (mant) digits++; }
        else exp10++;
    }
    if (!any) return 0;
    if (p < end && *p == '.') {
        p++;
        any = 0;
        for (; p < end && *p >= '0' && *p <= '9'; p++) {
            any = 1;
            if (digits < 19) { mant = mant * 10 + (u64)(*p - '0'); if (mant) digits++; exp10--; }
        }
        if (!any) return 0;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0, e = 0;
        if (p < end && (*p == '+' || *p == '-')) { eneg = *p == '-'; p++; }
        any = 0;
        for (; p < end && *p >= '0' && *p <= '9'; p++) { any = 1; if (e < 100000) e = e * 10 + (*p - '0'); }
        if (!any) return 0;
        exp10 += eneg ? -e : e;
    }
    if (p != end) return 0;
    double v = (double)mant;
    if (v != 0.0) {
        if (exp10 > 400) exp10 = 400;
        if (exp10 < -400) exp10 = -400;
        int k = exp10 < 0 ? -exp10 : exp10;
        /* Scale in steps that stay finite, dividing for negative exponents (exact powers of ten up to 1e22). */
        while (k > 0) {
            int step = k > 22 ? 22 : k;
            double f = 1.0;
            for (int i = 0; i < step; i++) f *= 10.0;
            if (exp10 < 0) v /= f; else v *= f;
            k -= step;
        }
    }
    *out = neg ? -v : v;
    return 1;
}

/* --- config ------------------------------------------------------------------------------------------------------ */

#define MAX_KEY 256
static u8 field[MAX_KEY];
static size_t field_len;
static u8 redact[MAX_KEY];
static size_t redact_len; /* 0 = no redaction */
static double min_value;
static u8 min_text[64];
static size_t min_len;

static u8 log_buf[MAX_KEY * 2 + 128];

static u8 *put(u8 *w, const u8 *s, size_t n) {
    __builtin_memcpy(w, s, n); /* memory.copy (bulk memory) */
    return w + n;
}

static u8 *put_lit(u8 *w, const char *s) {
    while (*s) *w++ = (u8)*s++;
    return w;
}

/* Copies a string value's contents (raw, escapes intact) into buf; 0 if it is not a string or too long. */
static int take_string(const member_t *m, u8 *buf, size_t *len) {
    if (*m->vs != '"') return 0;
    size_t n = (size_t)(m->ve - m->vs) - 2;
    if (n == 0 || n > MAX_KEY) return 0;
    for (size_t i = 0; i < n; i++) buf[i] = m->vs[1 + i];
    *len = n;
    return 1;
}

/* 0 = ok; -1 not an object; -2 bad "field"; -3 bad "min"; -4 bad "redact". */
EXPORT("init") int init(int ptr, int len) {
    const u8 *p = (const u8 *)(uptr)ptr, *end = p + len;
    field_len = put(field, (const u8 *)"amount", 6) - field;
    redact_len = 0;
    min_value = 0.0;
    min_len = put(min_text, (const u8 *)"0", 1) - min_text;

    p = ws(p, end);
    if (p >= end || *p != '{') return -1;
    member_t m;
    const u8 *q = p + 1;
    while ((q = member(q, end, &m))) {
        int is_null = eq_lit(m.vs, m.ve, "null");
        if (eq_lit(m.ks, m.ke, "field")) {
            if (!take_string(&m, field, &field_len)) return -2;
        } else if (eq_lit(m.ks, m.ke, "min")) {
            if (is_null) continue;
            size_t n = (size_t)(m.ve - m.vs);
            if (!parse_number(m.vs, m.ve, &min_value) || n > sizeof min_text) return -3;
            min_len = put(min_text, m.vs, n) - min_text;
        } else if (eq_lit(m.ks, m.ke, "redact")) {
            if (is_null) { redact_len = 0; continue; }
            if (!take_string(&m, redact, &redact_len)) return -4;
        }
    }

    u8 *w = put_lit(log_buf, "threshold: field=");
    w = put(w, field, field_len);
    w = put_lit(w, " min=");
    w = put(w, min_text, min_len);
    w = put_lit(w, " redact=");
    w = redact_len ? put(w, redact, redact_len) : put_lit(w, "none");
    fabric_log(1, log_buf, (int)(w - log_buf));
    return 0;
}

/* --- handle ------------------------------------------------------------------------------------------------------ */

static const char REDACTED[] = "\"[redacted]\"";
#define REDACTED_LEN (sizeof REDACTED - 1)

/* A redacted value's range, recorded during the scan in the arena after the input (contiguous: nothing else is
 * bumped meanwhile). */
typedef struct { const u8 *vs, *ve; } range_t;

EXPORT("handle") long long handle(int ptr, int len) {
    const u8 *p = (const u8 *)(uptr)ptr, *end = p + len;
    p = ws(p, end);
    if (p >= end || *p != '{') return 1;

    /* The envelope's data, and its members on the way (one pass): the threshold field (first occurrence) and the
     * values to redact. */
    member_t m;
    const u8 *q = p + 1, *ds = 0, *de = 0;
    while ((q = key(q, end, &m))) {
        if (!eq_lit(m.ks, m.ke, "data")) {
            if (!(q = skip_value(q, end))) return 1;
            continue;
        }
        if (*q != '{') return 1;
        break;
    }
    if (!q) return 1;

    ds = q;
    int seen_field = 0;
    range_t *ranges = (range_t *)bump(0);
    size_t redactions = 0, removed = 0;
    q = ds + 1;
    while ((q = member(q, end, &m))) {
        if (!seen_field && eq(m.ks, m.ke, field, field_len)) {
            seen_field = 1;
            double v;
            if (parse_number(m.vs, m.ve, &v) && v < min_value) return 0;
        }
        if (redact_len && eq(m.ks, m.ke, redact, redact_len)) {
            if (!bump(sizeof(range_t))) return -2;
            ranges[redactions].vs = m.vs;
            ranges[redactions].ve = m.ve;
            redactions++;
            removed += (size_t)(m.ve - m.vs);
        }
        de = m.ve;
    }
    if (!redactions) return 1;
    /* de: after data's last value; its closing brace follows. */
    de = ws(de, end);
    if (de >= end || *de != '}') return 1;
    de++;

    /* {"data":<data with each redacted value replaced>} */
    size_t size = 9 + (size_t)(de - ds) - removed + redactions * REDACTED_LEN;
    u8 *out = bump(size);
    if (!out) return -2;
    u8 *w = put_lit(out, "{\"data\":");
    const u8 *copied = ds;
    for (size_t i = 0; i < redactions; i++) {
        w = put(w, copied, (size_t)(ranges[i].vs - copied));
        w = put(w, (const u8 *)REDACTED, REDACTED_LEN);
        copied = ranges[i].ve;
    }
    w = put(w, copied, (size_t)(de - copied));
    *w++ = '}';
    return ((long long)(uptr)out << 32) | (long long)(w - out);
}
