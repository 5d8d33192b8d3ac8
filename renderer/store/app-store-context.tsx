// React context for the app store (zustand's initialize-state-with-props pattern) and the useAppStore hook.
// Layer: renderer.

import { createContext, type ReactNode, useContext } from 'react';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import type { StoreApi } from 'zustand/vanilla';

import type { AppState } from './store-types';

const AppStoreContext = createContext<StoreApi<AppState> | null>(null);

/** Provides the store to the tree. */
export function AppStoreProvider({
  store,
  children,
}: {
  store: StoreApi<AppState>;
  children: ReactNode;
}): ReactNode {
  return <AppStoreContext.Provider value={store}>{children}</AppStoreContext.Provider>;
}

/** Reads a slice of the store; wrap selectors returning new arrays/objects in useShallow. */
export function useAppStore<T>(selector: (state: AppState) => T): T {
  const store = useContext(AppStoreContext);
  if (!store) throw new Error('useAppStore must be used inside AppStoreProvider');
  return useStore(store, selector);
}

/** The raw store, for reading state in event handlers without subscribing. */
export function useAppStoreApi(): StoreApi<AppState> {
  const store = useContext(AppStoreContext);
  if (!store) throw new Error('useAppStoreApi must be used inside AppStoreProvider');
  return store;
}

/**
 * Several fields of the state by name, one object re-rendering only when one of them changes (shallow
 * compare): `const { view, setView } = useAppFields('view', 'setView')` instead of one hook call a field.
 */
export function useAppFields<K extends keyof AppState>(...keys: K[]): Pick<AppState, K> {
  return useAppStore(
    useShallow((state) => {
      const picked = {} as Pick<AppState, K>;
      for (const key of keys) picked[key] = state[key];
      return picked;
    }),
  );
}
