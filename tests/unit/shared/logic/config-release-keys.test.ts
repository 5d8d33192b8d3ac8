// Disaggregated-server keys and routers of TensorRT-LLM 1.2+ (docs/upstream-versions.md section 5).
import { describe, expect, it } from 'vitest';

import { formatIssue } from '../../../../shared/logic/config-issues';
import { parseDisaggConfig } from '../../../../shared/logic/config-parse';
import { documentToText, serializeDisaggConfig } from '../../../../shared/logic/config-write';

const URLS =
  'context_servers:\n  urls: ["localhost:8001"]\ngeneration_servers:\n  urls: ["localhost:8002"]\n';
const RELEASE_13 = `# a 1.3 server config
node_id: 7
schedule_style: generation_first
return_perf_metrics: true
perf_metrics_output_dir: /tmp/perf
allow_request_chat_template: false
gen_strip_message_history: true
gen_tokids_ctxbytes: false
num_workers: 4
disagg_coordinator_url: http://coord:8332
server_keep_alive_timeout: 30
internal_request_auth_key: "replace-with-a-random-shared-key"
${URLS}`;

describe('release settings', () => {
  it('a 1.3 file opens without issues, keeps the settings typed and saves back unchanged', () => {
    const r = parseDisaggConfig(RELEASE_13, 'd.yaml', { trtllmVersion: '1.3' });
    expect(r.issues.map(formatIssue)).toEqual([]);
    if (!r.ok) throw new Error('not ok');
    expect(r.value.release_settings).toEqual({
      node_id: 7,
      schedule_style: 'generation_first',
      return_perf_metrics: true,
      perf_metrics_output_dir: '/tmp/perf',
      allow_request_chat_template: false,
      gen_strip_message_history: true,
      gen_tokids_ctxbytes: false,
      num_workers: 4,
      disagg_coordinator_url: 'http://coord:8332',
      server_keep_alive_timeout: 30,
      internal_request_auth_key: 'replace-with-a-random-shared-key',
    });
    // Not LLM args: nothing is copied into the server sections.
    expect(r.value.shared_keys).toEqual({});
    expect(documentToText(r.document)).toBe(RELEASE_13);
    const again = parseDisaggConfig(serializeDisaggConfig(r.value), 'again.yaml');
    expect(again.ok && again.value).toEqual(r.value);
  });

  it.each([
    ['node_id: 256', 'd.yaml:1:1 node_id: must be between 0 and 255, got 256'],
    [
      'schedule_style: ctx_first',
      'd.yaml:1:1 schedule_style: must be one of context_first, generation_first, got "ctx_first"',
    ],
    [
      'allow_request_chat_template: "yes"',
      'd.yaml:1:1 allow_request_chat_template: must be true or false, got "yes"',
    ],
    ['internal_request_auth_key: ""', 'd.yaml:1:1 internal_request_auth_key: must not be empty'],
    [
      'server_keep_alive_timeout: 0',
      'd.yaml:1:1 server_keep_alive_timeout: must be greater than 0, got 0',
    ],
  ])('%s is an error at its line', (line, expected) => {
    const r = parseDisaggConfig(`${line}\n${URLS}`, 'd.yaml');
    expect(r.ok).toBe(false);
    expect(r.issues.map(formatIssue)).toContainEqual(expect.stringContaining(expected));
  });

  it('an older release is warned that it treats the key as an LLM arg', () => {
    const r = parseDisaggConfig(`internal_request_auth_key: k\n${URLS}`, 'd.yaml', {
      trtllmVersion: '1.2',
    });
    expect(r.ok).toBe(true);
    expect(r.issues.map(formatIssue)).toEqual([
      expect.stringMatching(
        /^d\.yaml:1:1 warning: internal_request_auth_key: .* from TensorRT-LLM 1\.3; 1\.2 copies it/,
      ),
    ]);
  });
});

describe('newer routers', () => {
  it('conversation: accepted with a warning, routed as round_robin, written back by its name', () => {
    const text = `context_servers:\n  urls: ["localhost:8001"]\n  router:\n    type: conversation\ngeneration_servers:\n  urls: ["localhost:8002"]\n`;
    const r = parseDisaggConfig(text, 'd.yaml');
    expect(r.issues.map(formatIssue)).toEqual([
      expect.stringMatching(
        /^d\.yaml:4:5 warning: context_servers\.router\.type: the conversation router is TensorRT-LLM 1\.3's; Disagg Console's proxy routes this section as round_robin$/,
      ),
    ]);
    if (!r.ok) throw new Error('not ok');
    expect(r.value.context_servers.router).toMatchObject({
      type: 'round_robin',
      declared_type: 'conversation',
    });
    expect(serializeDisaggConfig(r.value)).toContain('type: conversation');
  });

  it('remote_http needs remote_url', () => {
    const bad = parseDisaggConfig(`${URLS}  router: {type: remote_http}\n`, 'd.yaml');
    expect(bad.issues.map(formatIssue)).toContainEqual(
      expect.stringContaining('the remote_http router needs remote_url'),
    );
    const good = parseDisaggConfig(
      `${URLS}  router: {type: remote_http, remote_url: "http://r:8080"}\n`,
      'd.yaml',
    );
    expect(good.ok).toBe(true);
  });

  it('kv_cache_aware with disagg_cluster: fine on 1.2, an error on 1.1, a warning when the release is unknown', () => {
    const text =
      'generation_servers:\n  router: {type: kv_cache_aware}\ndisagg_cluster:\n  cluster_uri: http://localhost:8000\n';
    expect(parseDisaggConfig(text, 'd.yaml', { trtllmVersion: '1.2' }).issues).toEqual([]);
    expect(parseDisaggConfig(text, 'd.yaml', { trtllmVersion: '1.1' }).ok).toBe(false);
    const unknown = parseDisaggConfig(text, 'd.yaml');
    expect(unknown.ok).toBe(true);
    expect(unknown.issues.map((i) => i.severity)).toEqual(['warning']);
  });
});
