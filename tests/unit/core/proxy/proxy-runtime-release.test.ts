// The 1.2+ disaggregated YAML settings reach the proxy (docs/upstream-versions.md sections 2, 3, 6).
import { describe, expect, it } from 'vitest';

import {
  DEFAULT_RUN_SETTINGS,
  proxyOptionsFromConfig,
} from '../../../../electron/core/proxy/proxy-runtime';
import { parseDisaggConfig } from '../../../../shared/logic/config-parse';

const URLS =
  'context_servers:\n  urls: ["localhost:8001"]\ngeneration_servers:\n  urls: ["localhost:8002"]\n';

function optionsOf(text: string): ReturnType<typeof proxyOptionsFromConfig> {
  const r = parseDisaggConfig(text, 'd.yaml');
  if (!r.ok) throw new Error('test config is invalid');
  return proxyOptionsFromConfig(r.value, DEFAULT_RUN_SETTINGS, {});
}

describe('proxyOptionsFromConfig: release settings', () => {
  it('passes the signing key, the metrics switch and the chat template switch on', () => {
    const o = optionsOf(
      `internal_request_auth_key: k1\nreturn_perf_metrics: true\nallow_request_chat_template: true\n${URLS}`,
    );
    expect(o).toMatchObject({
      internalRequestAuthKey: 'k1',
      returnPerfMetrics: true,
      allowRequestChatTemplate: true,
    });
  });

  it('leaves them off when the YAML does not set them', () => {
    const o = optionsOf(URLS);
    expect(o).toMatchObject({
      internalRequestAuthKey: undefined,
      returnPerfMetrics: false,
      allowRequestChatTemplate: false,
    });
  });
});
