// Signs webhook requests with the providers' own libraries, for Fabric's tests. Reads a JSON array of requests on
// stdin and writes a JSON array of {headers, body} on stdout, one per request, in order.
//   {"scheme":"stripe","secret":"whsec_…","body":"…","timestamp":1700000000}
//   {"scheme":"github","secret":"…","body":"…"}
//   {"scheme":"standard","secret":"whsec_…","body":"…","id":"msg_…","timestamp":1700000000}
//   {"scheme":"shopify"|"slack","secret":"…","body":"…","timestamp":…}  (no signing library ships: as their docs say)
//   {"scheme":"cloudevents","mode":"binary"|"structured","event":{…CloudEvent attributes, data…}}
//   {"scheme":"cloudevents-batch","events":[…]}
import { createHmac } from 'node:crypto';
import Stripe from 'stripe';
import { sign as githubSign } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import { CloudEvent, HTTP } from 'cloudevents';

const stripe = new Stripe('sk_test_unused');

async function one(r) {
  switch (r.scheme) {
    case 'stripe':
      return {
        headers: { 'Stripe-Signature': stripe.webhooks.generateTestHeaderString({ payload: r.body, secret: r.secret, timestamp: r.timestamp }) },
        body: r.body,
      };
    case 'github':
      return { headers: { 'X-Hub-Signature-256': await githubSign(r.secret, r.body) }, body: r.body };
    case 'standard': {
      const signature = new Webhook(r.secret).sign(r.id, new Date(r.timestamp * 1000), r.body);
      return { headers: { 'webhook-id': r.id, 'webhook-timestamp': String(r.timestamp), 'webhook-signature': signature }, body: r.body };
    }
    case 'shopify':
      return { headers: { 'X-Shopify-Hmac-Sha256': createHmac('sha256', r.secret).update(r.body).digest('base64') }, body: r.body };
    case 'slack': {
      const mac = createHmac('sha256', r.secret).update(`v0:${r.timestamp}:${r.body}`).digest('hex');
      return { headers: { 'X-Slack-Signature': `v0=${mac}`, 'X-Slack-Request-Timestamp': String(r.timestamp) }, body: r.body };
    }
    case 'cloudevents': {
      const message = (r.mode === 'structured' ? HTTP.structured : HTTP.binary)(new CloudEvent(r.event));
      return { headers: message.headers, body: typeof message.body === 'string' ? message.body : JSON.stringify(message.body) };
    }
    case 'cloudevents-batch':
      return {
        headers: { 'content-type': 'application/cloudevents-batch+json' },
        body: JSON.stringify(r.events.map((e) => new CloudEvent(e).toJSON())),
      };
    default:
      throw new Error(`unknown scheme ${r.scheme}`);
  }
}

let input = '';
for await (const chunk of process.stdin) input += chunk;
const out = [];
for (const r of JSON.parse(input)) out.push(await one(r));
process.stdout.write(JSON.stringify(out));
