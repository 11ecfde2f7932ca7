import { createContext, useContext, useEffect, useRef, useSyncExternalStore, type ReactNode } from "react";
import type { PackEvent } from "../../lib/api";
import type { ConnectionStatus, LiveConnection } from "./liveConnection";

const LiveContext = createContext<LiveConnection<PackEvent> | null>(null);

export function LiveProvider({ live, children }: { live: LiveConnection<PackEvent>; children: ReactNode }) {
  return <LiveContext.Provider value={live}>{children}</LiveContext.Provider>;
}

export function useLive(): LiveConnection<PackEvent> {
  const live = useContext(LiveContext);
  if (!live) throw new Error("useLive outside LiveProvider");
  return live;
}

export function useConnectionStatus(): ConnectionStatus {
  const live = useLive();
  return useSyncExternalStore(
    (listener) => live.onStatus(listener),
    () => live.status,
  );
}

/** Calls `handler` for every live pack event while the component is mounted. */
export function usePackEvents(handler: (event: PackEvent) => void): void {
  const live = useLive();
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => live.onEvent((event) => ref.current(event)), [live]);
}

/** Calls `handler` after the live connection came back (to refresh what events do not cover). */
export function useOnResume(handler: (info: { hadCursor: boolean }) => void): void {
  const live = useLive();
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => live.onResume((info) => ref.current(info)), [live]);
}

/** A debounced callback: many events in a burst cause one refresh. */
export function useDebounced(fn: () => void, ms: number): () => void {
  const ref = useRef(fn);
  ref.current = fn;
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  const call = useRef(() => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => ref.current(), ms);
  });
  return call.current;
}
