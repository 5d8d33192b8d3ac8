// Desktop notifications when a worker crashes (feature C3/D1): watches workers:statusChanged and notifies on
// the transition into `errored` or `backoff`, once per transition, with the exit reason. Layer: electron shell
// (the notify function is injected, so the logic is tested without Electron).

import type { OnApiEvent } from '../../shared/api/contract';
import type { WorkerState } from '../../shared/model/worker';
import type { WorkerView } from '../../shared/model/worker-view';

const CRASH_STATES: readonly WorkerState[] = ['errored', 'backoff'];

/** The notification text for a crashed worker. */
export function crashMessage(view: WorkerView): { title: string; body: string } {
  const exit = view.status.lastExit;
  const how = exit
    ? exit.signal
      ? `signal ${exit.signal}`
      : `exit code ${exit.code ?? 'unknown'}`
    : 'unknown cause';
  const reason = exit?.reason ?? view.status.message;
  const tail = exit?.stderrTail.at(-1);
  const next =
    view.status.state === 'backoff'
      ? 'The console will restart it.'
      : 'It will not be restarted: open its logs.';
  return {
    title: `Worker ${view.id} crashed`,
    body: [
      `${view.role} worker stopped (${how})${reason ? `: ${reason}` : ''}.`,
      tail ? `Last line: ${tail}` : '',
      next,
    ]
      .filter((s) => s !== '')
      .join(' '),
  };
}

/** Subscribes to status events; returns the unsubscribe function. */
export function watchWorkerCrashes(
  onEvent: OnApiEvent,
  notify: (title: string, body: string) => void,
): () => void {
  const last = new Map<string, WorkerState>();
  return onEvent('workers:statusChanged', (view) => {
    const before = last.get(view.id);
    last.set(view.id, view.status.state);
    if (view.origin !== 'local' || !CRASH_STATES.includes(view.status.state)) return;
    if (before !== undefined && CRASH_STATES.includes(before)) return;
    const { title, body } = crashMessage(view);
    notify(title, body);
  });
}
