import { useEffect, useState } from "react";
import { useQuery } from "urql";
import { ClientsDocument } from "../../gql/graphql";
import { Link, useRouter } from "../../lib/router";
import { PageHeader } from "../../ui/Page";
import { ErrorList } from "../../ui/UserErrors";

const PAGE = 50;

/** Find a client by name, email or phone. */
export function ClientsList() {
  const { search: query, path, navigate } = useRouter();
  const initial = new URLSearchParams(query).get("q") ?? "";
  const [text, setText] = useState(initial);
  const [search, setSearch] = useState(initial);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  useEffect(() => {
    const timer = setTimeout(() => {
      setSearch(text.trim());
      setCursors([null]);
      navigate(`${path}${text.trim() ? `?q=${encodeURIComponent(text.trim())}` : ""}`, { replace: true });
    }, 300);
    return () => clearTimeout(timer);
  }, [text]);
  const [result] = useQuery({
    query: ClientsDocument,
    variables: { search: search || null, first: PAGE, after: cursors[cursors.length - 1] },
  });
  const connection = result.data?.clients;
  return (
    <div className="clients">
      <PageHeader title="Clients" subtitle={connection ? `${connection.totalCount} clients` : undefined} />
      <label className="field client-search">
        <span className="visually-hidden">Search clients</span>
        <input
          type="search"
          placeholder="Search by name, email or phone"
          value={text}
          onChange={(e) => setText(e.target.value)}
          autoFocus
        />
      </label>
      <ErrorList error={result.error} />
      {result.fetching && !connection && <p className="loading">Loading clients…</p>}
      {connection && connection.edges.length === 0 && (
        <div className="empty">No clients match “{search}”.</div>
      )}
      {connection && connection.edges.length > 0 && (
        <ul className="client-list">
          {connection.edges.map(({ node }) => (
            <li key={node.id}>
              <Link to={`/clients/${node.id}`} className="client-row">
                <span className="client-name">{node.name}</span>
                <span className="muted">{[node.email, node.phone].filter(Boolean).join(" · ")}</span>
              </Link>
            </li>
          ))}
        </ul>
      )}
      {connection && (cursors.length > 1 || connection.pageInfo.hasNextPage) && (
        <nav className="pager" aria-label="Pages">
          <button
            type="button"
            className="btn"
            disabled={cursors.length === 1}
            onClick={() => setCursors((c) => c.slice(0, -1))}
          >
            ← Previous
          </button>
          <button
            type="button"
            className="btn"
            disabled={!connection.pageInfo.hasNextPage}
            onClick={() => setCursors((c) => [...c, connection.pageInfo.endCursor ?? null])}
          >
            Next →
          </button>
        </nav>
      )}
    </div>
  );
}
