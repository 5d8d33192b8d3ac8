// Renderer entry: picks the transport (Electron bridge or HTTP + token), builds the store, starts its event
// wiring and renders the app. Layer: renderer.

import './styles.css';

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

import { pickApiClient } from './api/pick-transport';
import { App } from './app';
import { NoBackend } from './components/no-backend';
import type { StreamFetch } from './lib/openai-request';
import { AppStoreProvider } from './store/app-store-context';
import { createAppStore } from './store/create-app-store';

const rootEl = document.getElementById('root');
if (!rootEl) throw new Error('index.html has no #root');
const root = createRoot(rootEl);
const picked = pickApiClient(window);
if (!picked.client) {
  root.render(<NoBackend reason={picked.reason} />);
} else {
  const fetchFn: StreamFetch = (url, init) => window.fetch(url, init);
  const app = createAppStore({ api: picked.client, now: () => Date.now(), fetch: fetchFn });
  void app.start();
  window.addEventListener('beforeunload', () => app.dispose());
  root.render(
    <StrictMode>
      <AppStoreProvider store={app.store}>
        <App />
      </AppStoreProvider>
    </StrictMode>,
  );
}
