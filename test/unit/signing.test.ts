// Issue 4: Standard Webhooks signatures, against the specification's reference vector.
import { describe, expect, it } from 'vitest';
import { generateSecret, isValidSecret, sign } from '../../server/dispatch/signing.ts';

describe('Standard Webhooks signing', () => {
  it('matches the reference test vector', () => {
    const sig = sign('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(sig).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('changes when any signed part changes', () => {
    const base = sign('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_1', 1, '{}');
    expect(sign('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_2', 1, '{}')).not.toBe(base);
    expect(sign('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_1', 2, '{}')).not.toBe(base);
    expect(sign('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_1', 1, '{ }')).not.toBe(base);
  });

  it('generates valid secrets and rejects malformed ones', () => {
    const s = generateSecret();
    expect(isValidSecret(s)).toBe(true);
    expect(s).not.toBe(generateSecret());
    expect(isValidSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toBe(true);
    expect(isValidSecret('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toBe(false);
    expect(isValidSecret('whsec_short')).toBe(false);
    expect(isValidSecret('whsec_not base64!!')).toBe(false);
  });
});
