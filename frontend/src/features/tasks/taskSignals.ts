// A signal for "the task list changed": the Tasks view sends it after Done, and live events that can
// raise a task (a pack used up, expired or expiring soon) send it too; the navigation's open-task count
// and the Tasks view refresh on it.
import { useEffect, useRef } from "react";
import type { PackEvent } from "../../lib/api";
import { usePackEvents } from "../live/LiveContext";

type Listener = () => void;
const listeners = new Set<Listener>();

export function notifyTasksChanged(): void {
  for (const listener of [...listeners]) listener();
}

export function onTasksChanged(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Events after which the server may have raised a task. */
export function mayRaiseTask(event: Pick<PackEvent, "type">): boolean {
  return (
    event.type === "PACK_FULLY_USED" || event.type === "PACK_EXPIRED" || event.type === "PACK_EXPIRING_SOON"
  );
}

/** Calls `handler` when the task list may have changed (here or on another desk). */
export function useTasksChanged(handler: () => void): void {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => onTasksChanged(() => ref.current()), []);
  usePackEvents((event) => {
    if (mayRaiseTask(event)) ref.current();
  });
}
