// The proxy's `--api-key` check. The expected and presented keys are compared as SHA-256 digests with
// crypto.timingSafeEqual: equal-length inputs, so neither the key's length nor the position of the
// first wrong byte shows in the answer time (a `!==` on strings stops at the first difference; issue #15).
// Layer: core.
import crypto from 'node:crypto';

const BEARER = 'Bearer ';

function digest(text: string): Buffer {
  return crypto.createHash('sha256').update(text, 'utf8').digest();
}

/** Whether an `Authorization` header carries the key; built once per server (the key's digest is kept). */
export type ApiKeyCheck = (authorization: string | undefined) => boolean;

/** A check for `Authorization: Bearer <key>`; without a key every request passes. */
export function createApiKeyCheck(apiKey: string | undefined): ApiKeyCheck {
  if (apiKey === undefined) return () => true;
  const expected = digest(apiKey);
  return (authorization) => {
    const presented = authorization?.startsWith(BEARER) ? authorization.slice(BEARER.length) : '';
    // Always hash and compare, also for a missing header, so every refusal costs the same.
    const isEqual = crypto.timingSafeEqual(digest(presented), expected);
    return isEqual && authorization !== undefined && authorization.startsWith(BEARER);
  };
}
