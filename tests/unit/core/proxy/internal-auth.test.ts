// Internal request signing (docs/upstream-versions.md section 2, shape S4). The expected digests and
// canonical texts below were computed with CPython's json.dumps(sort_keys=True, separators=(",", ":"))
// and hmac/hashlib, i.e. what a real TensorRT-LLM worker computes.
import { describe, expect, it } from 'vitest';

import {
  authPayload,
  INTERNAL_DISAGG_AUTH_HEADER,
  internalAuthHeaders,
  pythonCanonicalJson,
  requiresInternalAuth,
  signInternalRequest,
  verifyInternalRequest,
} from '../../../../electron/core/proxy/internal-auth';

const params = {
  request_type: 'generation_only',
  ctx_request_id: 7,
  encoded_opaque_state: 'b3BhcXVl',
  ctx_info_endpoint: ['tcp://10.0.0.1:5000', 'tcp://x'],
  ctx_dp_rank: 2,
  schedule_style: 1,
  generation_endpoint_name: 'gén-é"\n',
};

describe('pythonCanonicalJson', () => {
  it('writes floats as Python repr does', () => {
    expect(pythonCanonicalJson([1.5e-5, 0.0001, 123.456, 1.25e-7, -3.5e-10, 0.5])).toBe(
      '[1.5e-05,0.0001,123.456,1.25e-07,-3.5e-10,0.5]',
    );
  });

  it('sorts keys, escapes non-ASCII like ensure_ascii and keeps big ints exact', () => {
    expect(pythonCanonicalJson({ b: 'é', a: [true, null], c: 12345678901234567890n })).toBe(
      '{"a":[true,null],"b":"\\u00e9","c":12345678901234567890}',
    );
  });
});

describe('signing', () => {
  it('signs exactly what CPython signs (all sixteen fields, endpoint list canonicalised)', () => {
    expect(authPayload(params)).toBe(
      '{"artifact_version":null,"consumer_grant_id":null,"context_control_endpoint":null,"context_transceiver_lifecycle":null,"ctx_dp_rank":2,"ctx_info_endpoint":"tcp://10.0.0.1:5000","encoded_opaque_state":"b3BhcXVl","generation_endpoint_incarnation":null,"generation_endpoint_name":"g\\u00e9n-\\u00e9\\"\\n","generation_endpoint_rank":null,"handoff_attempt_uuid":null,"logical_request_id":null,"prefill_artifact_id":null,"request_type":"generation_only","schedule_style":1,"transfer_session_id":null}',
    );
    expect(signInternalRequest('secret', params)).toBe(
      'sha256=2690a0e3b689ed45b6b247dde89828d6f6cd924373ac25f589d31bbc2f641298',
    );
  });

  it('adds the header only for protected params and only with a key', () => {
    expect(internalAuthHeaders('secret', params)).toEqual({
      [INTERNAL_DISAGG_AUTH_HEADER]: signInternalRequest('secret', params),
    });
    expect(internalAuthHeaders(undefined, params)).toEqual({});
    expect(internalAuthHeaders('secret', { request_type: 'context_only' })).toEqual({});
    expect(
      requiresInternalAuth({ request_type: 'generation_only', ctx_dp_rank: 0, schedule_style: 0 }),
    ).toBe(false);
    expect(
      requiresInternalAuth({ request_type: 'generation_only', transfer_session_id: 's' }),
    ).toBe(true);
  });

  it('verifies: a worker with a key refuses missing, wrong and tampered signatures', () => {
    const good = signInternalRequest('secret', params);
    expect(verifyInternalRequest('secret', params, good)).toEqual({ ok: true });
    expect(verifyInternalRequest('secret', params, undefined).ok).toBe(false);
    expect(verifyInternalRequest('other', params, good).ok).toBe(false);
    expect(
      verifyInternalRequest('secret', { ...params, encoded_opaque_state: 'dGFtcGVy' }, good).ok,
    ).toBe(false);
    // Fields outside the signed set may change (upstream signs only the listed ones).
    expect(verifyInternalRequest('secret', { ...params, ctx_request_id: 8 }, good).ok).toBe(true);
  });

  it('a worker without a key accepts unsigned protected requests (S4 only warns)', () => {
    expect(verifyInternalRequest(undefined, params, undefined)).toEqual({ ok: true });
  });
});
