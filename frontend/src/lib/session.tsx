// The signed-in session: token + viewer, kept in localStorage so a reload stays signed in.
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import type { ViewerFieldsFragment, Role } from "../gql/graphql";

const STORAGE_KEY = "packgraph.session";

export interface Session {
  token: string;
  viewer: ViewerFieldsFragment;
}

interface SessionValue {
  session: Session | null;
  signIn: (session: Session) => void;
  signOut: () => void;
  updateViewer: (viewer: ViewerFieldsFragment) => void;
}

const SessionContext = createContext<SessionValue | null>(null);

export function loadSession(storage: Storage = window.localStorage): Session | null {
  try {
    const raw = storage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Partial<Session>;
    if (typeof parsed.token !== "string" || !parsed.viewer) return null;
    return parsed as Session;
  } catch {
    return null;
  }
}

function saveSession(session: Session | null): void {
  try {
    if (session) window.localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
    else window.localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Private mode or full storage: the session still works until the tab closes.
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(() => loadSession());

  const signIn = useCallback((next: Session) => {
    saveSession(next);
    setSession(next);
  }, []);

  const signOut = useCallback(() => {
    saveSession(null);
    setSession(null);
  }, []);

  const updateViewer = useCallback((viewer: ViewerFieldsFragment) => {
    setSession((current) => {
      if (!current) return current;
      const next = { ...current, viewer };
      // Only refresh the stored session if it is still this one: another tab may have signed out or
      // in as someone else meanwhile, and a late viewer answer must not bring this token back.
      if (loadSession()?.token === current.token) saveSession(next);
      return next;
    });
  }, []);

  const value = useMemo(
    () => ({ session, signIn, signOut, updateViewer }),
    [session, signIn, signOut, updateViewer],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error("useSession outside SessionProvider");
  return value;
}

/** The signed-in viewer; only for components rendered behind the login. */
export function useViewer(): ViewerFieldsFragment {
  const { session } = useSession();
  if (!session) throw new Error("useViewer without a session");
  return session.viewer;
}

export function isManagerRole(role: Role | null | undefined): boolean {
  return role === "OWNER" || role === "MANAGER";
}

/** Managers and owners may correct, change expiry, cancel and delete; staff may not. */
export function useCanManage(): boolean {
  const viewer = useViewer();
  return viewer.isManager ?? isManagerRole(viewer.role);
}

/** Business currency and timezone for formatting. */
export function useLocale(): { currency: string; timezone: string } {
  const viewer = useViewer();
  return { currency: viewer.business.currency, timezone: viewer.business.timezone };
}
