// Verifies outbound deliveries with the official Standard Webhooks library (npm standardwebhooks), for Fabric's
// outbound tests: Fabric signs, code nobody here wrote checks. Reads a JSON array of
//   {"secret":"whsec_…","headers":{"webhook-id":…,"webhook-timestamp":…,"webhook-signature":…},"body":"…","at":unixSeconds?}
// on stdin and writes a JSON array of {"ok":true} or {"ok":false,"error":"…"} on stdout, in order.
import { Webhook } from 'standardwebhooks';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const realNow = Date.now;
const results = JSON.parse(input).map(r => {
  try {
    // Fabric's tests move its clock by hand (days, for the retry schedule), so the library's 5-minute tolerance is
    // applied as of the attempt's own timestamp; the signature itself is checked as the library always does.
    Date.now = r.at ? () => r.at * 1000 : realNow;
    new Webhook(r.secret).verify(r.body, r.headers);
    return { ok: true };
  } catch (e) {
    return { ok: false, error: String(e.message ?? e) };
  }
});
process.stdout.write(JSON.stringify(results));
