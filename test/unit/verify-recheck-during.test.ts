// A settings re-check reads the bin's list when it begins; captures checked as they come
// while it runs are not in that list. What they show about the secrets must still count: a
// valid one proves the secret, so the stored captures the old picture called "wrong_secret"
// are really "body_changed" (before, the rows kept wrong_secret for good). Real parts: the
// Verifier on a MemoryStore, signatures made by the standardwebhooks package.
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../server/store/memory.ts';
import type { CapturedRequest } from '../../server/store/types.ts';
import { Verifier } from '../../server/verify/service.ts';

const RIGHT = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const OTHER = 'whsec_c2Vjb25kIHNlY3JldCBmb3IgdGVzdGluZyByb3RhdGlvbg==';
const BIN = 'recheck-during';
const settings = { schemes: [{ type: 'standard-webhooks' as const, secrets: [RIGHT] }] };

let n = 0;
function signed(secret: string, i: number): CapturedRequest {
  const body = JSON.stringify({ i });
  const at = new Date();
  const id = `msg_${i}`;
  n++;
  return {
    id: `0000000000${String(n).padStart(6, '0')}`,
    binId: BIN,
    method: 'POST',
    path: '/',
    queryString: '',
    headers: ['webhook-id', id, 'webhook-timestamp', String(Math.floor(at.getTime() / 1000)), 'webhook-signature', new Webhook(secret).sign(id, at, body)],
    ip: '127.0.0.1',
    receivedAt: at.toISOString(),
    size: body.length,
    truncated: false,
    storedBytes: body.length,
    contentType: 'application/json',
    answer: { status: 200, fault: null } as CapturedRequest['answer'],
    body: Buffer.from(body),
  };
}

const causes = async (store: MemoryStore) => (await store.requests.items(BIN, { limit: 100, oldestFirst: true })).map((r) => r.verification?.cause ?? r.verification?.status);
// Any re-check the capture asked for (they run one after another) is done well within this.
const settle = () => new Promise((r) => setTimeout(r, 500));

describe('a capture checked while a re-check runs', () => {
  it('a valid one turns the stored wrong_secret rows into body_changed', async () => {
    const store = new MemoryStore();
    await store.bins.put({ id: BIN, name: 'b', createdAt: new Date().toISOString() });
    const verifier = new Verifier({ store });
    // Two captures signed with another secret: none verifies, so the re-check says wrong_secret.
    for (const i of [1, 2]) await store.requests.append(signed(OTHER, i), 100);
    await verifier.set(BIN, settings);
    expect(await causes(store)).toEqual(['wrong_secret', 'wrong_secret']);

    // The settings are saved again; while their re-check reads the bodies (slowly), a validly
    // signed capture comes and is checked.
    const body = store.requests.body.bind(store.requests);
    let injected = false;
    store.requests.body = async (binId: string, id: string) => {
      if (!injected) {
        injected = true;
        const good = signed(RIGHT, 3);
        await store.requests.append(good, 100);
        verifier.captured(good);
        await new Promise((r) => setTimeout(r, 20)); // its check runs meanwhile (setImmediate)
      }
      return body(binId, id);
    };
    await verifier.set(BIN, settings);
    await settle();
    // The secret is proven by capture 3: the first two had their bytes changed, not the secret.
    expect(await causes(store)).toEqual(['body_changed', 'body_changed', 'valid']);
  });
});
