import type { ReactNode } from "react";
import { Link, useRouter } from "../lib/router";
import { useSession, useViewer } from "../lib/session";
import { ConnectionIndicator } from "../features/live/ConnectionIndicator";
import { OpenTaskBadge } from "../features/tasks/OpenTaskBadge";

const NAV = [
  { to: "/", label: "Packs", match: (p: string) => p === "/" || p.startsWith("/packs") },
  { to: "/today", label: "Today", match: (p: string) => p.startsWith("/today") },
  { to: "/clients", label: "Clients", match: (p: string) => p.startsWith("/clients") },
  { to: "/activity", label: "Activity", match: (p: string) => p.startsWith("/activity") },
  { to: "/tasks", label: "Tasks", match: (p: string) => p.startsWith("/tasks") },
  { to: "/reports", label: "Reports", match: (p: string) => p.startsWith("/reports") },
];

const ROLE_LABEL = {
  OWNER: "Owner",
  MANAGER: "Manager",
  STAFF: "Staff",
  INTEGRATION: "Integration",
} as const;

/** Header (brand, navigation, live state, who is signed in) above the page. */
export function Layout({ children }: { children: ReactNode }) {
  const { path } = useRouter();
  const viewer = useViewer();
  const { signOut } = useSession();
  return (
    <div className="shell">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar-inner">
          <Link to="/" className="brand" aria-label={`packgraph: ${viewer.business.name}`}>
            <span className="brand-mark" aria-hidden="true">
              p
            </span>
            <span className="brand-name">{viewer.business.name}</span>
          </Link>
          <nav className="mainnav" aria-label="Main">
            {NAV.map((item) => (
              <Link
                key={item.to}
                to={item.to}
                className="mainnav-link"
                aria-current={item.match(path) ? "page" : undefined}
              >
                {item.label}
                {item.to === "/tasks" && <OpenTaskBadge />}
              </Link>
            ))}
          </nav>
          <div className="topbar-right">
            <ConnectionIndicator />
            <div className="whoami" data-testid="whoami">
              <span className="whoami-name">{viewer.name || viewer.staff?.name}</span>
              <span className="whoami-role">{ROLE_LABEL[viewer.role]}</span>
            </div>
            <button type="button" className="btn btn-small" onClick={signOut}>
              Sign out
            </button>
          </div>
        </div>
      </header>
      <main id="main" className="content" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
