import { lazy, Suspense, useEffect, useState, type ReactNode } from "react";
import { Provider as UrqlProvider, useQuery } from "urql";
import { ViewerDocument } from "../gql/graphql";
import { createApi } from "../lib/api";
import { matchPath, RouterProvider, useRouter } from "../lib/router";
import { SessionProvider, useSession, type Session } from "../lib/session";
import { Activity, ActivityFeedContext } from "../features/activity/Activity";
import { ActivityFeed } from "../features/activity/activityFeed";
import { Login } from "../features/auth/Login";
import { ClientProfile } from "../features/clients/ClientProfile";
import { ClientsList } from "../features/clients/ClientsList";
import { LiveProvider } from "../features/live/LiveContext";
import { Board } from "../features/packs/Board";
import { PackDetail } from "../features/packs/PackDetail";
import { PackStore } from "../features/packs/packStore";
import { PackStoreProvider } from "../features/packs/packStoreContext";
import { Today } from "../features/today/Today";
import { Layout } from "./Layout";

// Views used now and then load on first visit (Reports brings the charting library).
const Reports = lazy(() => import("../features/reports/Reports").then((m) => ({ default: m.Reports })));
const Tasks = lazy(() => import("../features/tasks/Tasks").then((m) => ({ default: m.Tasks })));
const InvoicePrint = lazy(() =>
  import("../features/invoices/InvoicePrint").then((m) => ({ default: m.InvoicePrint })),
);

export function App() {
  return (
    <RouterProvider>
      <SessionProvider>
        <Gate />
      </SessionProvider>
    </RouterProvider>
  );
}

function Gate() {
  const { session } = useSession();
  const { path, navigate } = useRouter();
  useEffect(() => {
    if (session && path === "/login") navigate("/", { replace: true });
  }, [session, path, navigate]);
  if (!session) return <Login />;
  // A new token (another user) gets a fresh client, store and live connection.
  return <SignedIn key={session.token} session={session} />;
}

interface Services {
  api: ReturnType<typeof createApi>;
  store: PackStore;
  feed: ActivityFeed;
}

function createServices(token: string, onAuthLost: () => void): Services {
  const api = createApi(token, onAuthLost);
  const store = new PackStore();
  const feed = new ActivityFeed();
  // Registered before any view's listener, so views see the store already updated.
  api.live.onEvent((event) => {
    if (event.pack) store.merge(event.pack, { highlight: true });
    if (event.type === "PACK_DELETED" && event.pack) store.markDeleted(event.pack.id);
    feed.push(event);
  });
  return { api, store, feed };
}

function SignedIn({ session }: { session: Session }) {
  const { signOut } = useSession();
  const [services, setServices] = useState<Services | null>(null);
  // Created in an effect (not during render) so the socket is always closed by the cleanup.
  useEffect(() => {
    const created = createServices(session.token, signOut);
    created.api.live.start();
    setServices(created);
    return () => created.api.dispose();
  }, [session.token, signOut]);
  if (!services) return null;

  return (
    <UrqlProvider value={services.api.client}>
      <LiveProvider live={services.api.live}>
        <PackStoreProvider store={services.store}>
          <ActivityFeedContext.Provider value={services.feed}>
            <ViewerRefresh />
            <Layout>
              <Suspense fallback={<p className="loading">Loading…</p>}>
                <Routes />
              </Suspense>
            </Layout>
          </ActivityFeedContext.Provider>
        </PackStoreProvider>
      </LiveProvider>
    </UrqlProvider>
  );
}

/** Refreshes the stored viewer (role or business may have changed); a dead token signs out. */
function ViewerRefresh() {
  const { updateViewer, signOut } = useSession();
  const [result] = useQuery({ query: ViewerDocument });
  useEffect(() => {
    if (result.data?.viewer) updateViewer(result.data.viewer);
    else if (result.data && !result.data.viewer) signOut();
  }, [result.data, updateViewer, signOut]);
  return null;
}

function Routes(): ReactNode {
  const { path } = useRouter();
  let params: Record<string, string> | null;
  if (path === "/" || path === "/packs") return <Board />;
  if ((params = matchPath("/packs/:id", path))) return <PackDetail key={params.id} id={params.id} />;
  if (path === "/today") return <Today />;
  if (path === "/clients") return <ClientsList />;
  if ((params = matchPath("/clients/:id", path))) return <ClientProfile key={params.id} id={params.id} />;
  if ((params = matchPath("/invoices/:id/print", path)))
    return <InvoicePrint key={params.id} id={params.id} />;
  if (path === "/activity") return <Activity />;
  if (path === "/tasks") return <Tasks />;
  if (path === "/reports") return <Reports />;
  return (
    <div className="empty">
      <p>There is no page here.</p>
    </div>
  );
}
