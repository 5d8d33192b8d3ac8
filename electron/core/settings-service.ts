// The console settings (<dataDir>/settings.json): read once at start (an unreadable file means defaults, with
// a warning), changed by settings:set and written atomically. Layer: core.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { ConsoleSettings, ConsoleSettingsPatch } from '../../shared/model/settings';
import { type BackendLog, errText } from './event-hub';
import { confirmedListFromDisk, settingsAfterPatch } from './executable-allowlist';
import { allowedHostProblem } from './http/request-guards';
import { writeJsonAtomic } from './settings-file';

/** The settings a fresh console starts with. */
export const DEFAULT_SETTINGS: ConsoleSettings = {
  trtllmServePath: null,
  defaultEngine: 'simulated',
  simulatedGpuCount: 4,
  simulatedGpuModel: 'NVIDIA H100 80GB HBM3',
  // Real models take minutes to load (C2); simulated workers get a short bound of their own.
  readyTimeoutMs: 30 * 60_000,
  clusterMode: 'static',
  etcdEndpoint: null,
  proxyPort: 8000,
  trtllmVersion: 'auto',
  confirmedExecutables: [],
  allowedHosts: [],
};

/** The settings of one data dir. */
export interface SettingsService {
  get(): ConsoleSettings;
  /** Applies a patch (a new trtllm-serve executable only once confirmed), saves, and returns every setting. */
  set(patch: ConsoleSettingsPatch): Promise<ConsoleSettings>;
}

function readSettings(path: string, log: BackendLog): ConsoleSettings {
  if (!existsSync(path)) return { ...DEFAULT_SETTINGS };
  try {
    const raw = JSON.parse(readFileSync(path, 'utf8')) as Partial<ConsoleSettings>;
    return {
      ...DEFAULT_SETTINGS,
      ...raw,
      confirmedExecutables: confirmedListFromDisk(raw, Date.now()),
      allowedHosts: allowedHostsFromDisk(raw.allowedHosts, path, log),
    };
  } catch (err) {
    log('warn', `settings file ${path} is unreadable, using defaults: ${errText(err)}`);
    return { ...DEFAULT_SETTINGS };
  }
}

/** The allowedHosts of settings.json: the valid names kept, each invalid one named in a warning. */
function allowedHostsFromDisk(raw: unknown, path: string, log: BackendLog): string[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    log('warn', `settings file ${path}: allowedHosts must be a list of host names; ignored`);
    return [];
  }
  const names: string[] = [];
  for (const name of raw as unknown[]) {
    const problem = typeof name === 'string' ? allowedHostProblem(name) : 'not a string';
    if (problem === null) names.push((name as string).trim().toLowerCase());
    else log('warn', `settings file ${path}: allowedHosts entry ignored: ${problem}`);
  }
  return names;
}

/** Reads the settings of dataDir. */
export function createSettingsService(dataDir: string, log: BackendLog): SettingsService {
  const path = join(dataDir, 'settings.json');
  let settings = readSettings(path, log);
  return {
    get: () => ({ ...settings }),
    async set(patch) {
      settings = await settingsAfterPatch(settings, patch, Date.now());
      writeJsonAtomic(path, settings);
      return { ...settings };
    },
  };
}
