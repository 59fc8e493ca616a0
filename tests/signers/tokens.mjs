// Signs connection tokens with npm `jose`, for Fabric's socket tests: Fabric's token check is tested against a JWT
// library nobody here wrote. Reads a JSON array on stdin and writes a JSON array of compact JWTs, one per request:
//   {"secret":"…","kid":"sk_…","claims":{"sub":"alice","customer":"acme","exp":1700000000,…},"alg":"HS256"}
// The HMAC key is the secret string's UTF-8 bytes, as Fabric documents. "alg" defaults to HS256; "kid" may be omitted.
import { SignJWT } from 'jose';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const out = [];
for (const r of JSON.parse(input)) {
  const header = { alg: r.alg ?? 'HS256', typ: 'JWT' };
  if (r.kid) header.kid = r.kid;
  out.push(await new SignJWT(r.claims).setProtectedHeader(header).sign(new TextEncoder().encode(r.secret)));
}
process.stdout.write(JSON.stringify(out));
