// Verifies outbound deliveries with the official Standard Webhooks library (npm standardwebhooks), for Fabric's
// outbound tests: Fabric signs, code nobody here wrote checks. Reads a JSON array of
//   {"secret":"whsec_…","headers":{"webhook-id":…,"webhook-timestamp":…,"webhook-signature":…},"body":"…"}
// on stdin and writes a JSON array of {"ok":true} or {"ok":false,"error":"…"} on stdout, in order.
import { Webhook } from 'standardwebhooks';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const results = JSON.parse(input).map(r => {
  try {
    new Webhook(r.secret).verify(r.body, r.headers);
    return { ok: true };
  } catch (e) {
    return { ok: false, error: String(e.message ?? e) };
  }
});
process.stdout.write(JSON.stringify(results));
