import { createContext, useCallback, useContext, useSyncExternalStore, type ReactNode } from "react";
import { PackStore, type PackSnapshot } from "./packStore";

const PackStoreContext = createContext<PackStore | null>(null);

export function PackStoreProvider({ store, children }: { store: PackStore; children: ReactNode }) {
  return <PackStoreContext.Provider value={store}>{children}</PackStoreContext.Provider>;
}

export function usePackStore(): PackStore {
  const store = useContext(PackStoreContext);
  if (!store) throw new Error("usePackStore outside PackStoreProvider");
  return store;
}

/** The newest snapshot of a pack; re-renders when a live event or mutation replaces it. */
export function usePack(id: string, fallback?: PackSnapshot): PackSnapshot | undefined {
  const store = usePackStore();
  const subscribe = useCallback((listener: () => void) => store.subscribe(id, listener), [store, id]);
  const snapshot = useSyncExternalStore(subscribe, () => store.get(id));
  return snapshot ?? fallback;
}

/** Whether the pack was deleted while this page was open. */
export function usePackDeleted(id: string): boolean {
  const store = usePackStore();
  const subscribe = useCallback((listener: () => void) => store.subscribe(id, listener), [store, id]);
  return useSyncExternalStore(subscribe, () => store.isDeleted(id));
}

/** The time of the pack's last noticed change (0 when none), for the highlight. */
export function usePackChangedAt(id: string): number {
  const store = usePackStore();
  const subscribe = useCallback((listener: () => void) => store.subscribe(id, listener), [store, id]);
  return useSyncExternalStore(subscribe, () => store.changedAtOf(id));
}
