// The verification engine of issue 14: pure functions, no I/O. See each file for the why.
export { secretKeys, type SecretKeys, verify } from './verify.ts';
export { refineCauses } from './evidence.ts';
export { idempotencyKey, atPath } from './idempotency.ts';
export { groupAttempts, bodySha256, type AttemptGroups, type KeyChurn, type KeyedCapture } from './attempts.ts';
export { settingsView, secretHint } from './settings-view.ts';
export type { VerifyRequest } from './types.ts';
