import { useEffect, useMemo, useState } from "react";
import { useQuery } from "urql";
import { PackBoardDocument, PackStatusCountsDocument, type PackStatus } from "../../gql/graphql";
import { useRouter } from "../../lib/router";
import { PageHeader } from "../../ui/Page";
import { ErrorList } from "../../ui/UserErrors";
import { useDebounced, useOnResume, usePackEvents } from "../live/LiveContext";
import { BoardFilterBar } from "./BoardFilterBar";
import {
  EMPTY_FILTERS,
  filtersFromSearch,
  filtersToSearch,
  packMatches,
  pageAfterEvent,
  toPackFilter,
  type BoardFilters,
  type BoardPage,
} from "./boardState";
import { PackCard } from "./PackCard";
import { usePack, usePackChangedAt, usePackStore } from "./packStoreContext";

export const PAGE_SIZE = 24;

/** All packs of the business as live cards, with filters, counts per status and paging. */
export function Board() {
  const { search, path, navigate } = useRouter();
  const filters = useMemo(() => filtersFromSearch(search), [search]);
  const filterKey = filtersToSearch(filters);
  // "Now" is fixed per filter choice so the query variables (expiringBefore) stay stable.
  const now = useMemo(() => new Date(), [filterKey]);
  // Page cursors belong to one filter choice: a new filter starts again at page 1.
  const [paging, setPaging] = useState<{ key: string; cursors: (string | null)[] }>({
    key: filterKey,
    cursors: [null],
  });
  const cursors = paging.key === filterKey ? paging.cursors : [null];
  const setCursors = (update: (cursors: (string | null)[]) => (string | null)[]) =>
    setPaging({ key: filterKey, cursors: update(cursors) });
  const pageIndex = cursors.length - 1;
  const after = cursors[pageIndex];

  const variables = useMemo(
    () => ({ filter: toPackFilter(filters, now), first: PAGE_SIZE, after }),
    [filters, now, after],
  );
  const [result, reexecute] = useQuery({ query: PackBoardDocument, variables });
  const counts = useStatusCounts(filters, now);

  const store = usePackStore();
  // The page is keyed by what was asked for, so a new filter never shows the old filter's cards.
  const pageKey = JSON.stringify(variables);
  const [loaded, setLoaded] = useState<{ key: string; page: BoardPage } | null>(null);
  const page = loaded?.key === pageKey ? loaded.page : null;
  const connection = result.data?.packs;
  useEffect(() => {
    if (!connection) return;
    const nodes = connection.edges.map((edge) => edge.node);
    store.mergeAll(nodes);
    // Keyed by the variables the result answers, which may lag behind the current ones.
    const key = JSON.stringify(result.operation?.variables ?? variables);
    setLoaded({ key, page: { ids: nodes.map((node) => node.id), totalCount: connection.totalCount } });
  }, [connection, result.operation, store, variables]);
  const setPage = (update: (page: BoardPage) => BoardPage) =>
    setLoaded((current) => (current ? { ...current, page: update(current.page) } : current));

  usePackEvents((event) => {
    counts.refresh();
    setPage((current) =>
      pageAfterEvent(current, event, filters, {
        firstPage: pageIndex === 0,
        now: new Date(),
        packOf: (id) => store.get(id),
      }),
    );
  });
  useOnResume(({ hadCursor }) => {
    // Without a cursor the missed events cannot be replayed: reload this page instead.
    if (!hadCursor) reexecute({ requestPolicy: "network-only" });
    counts.refresh();
  });

  const setFilters = (next: BoardFilters) => navigate(`${path}${filtersToSearch(next)}`, { replace: true });
  const loading = result.fetching && !page;
  const first = pageIndex * PAGE_SIZE;

  return (
    <div className="board">
      <PageHeader title="Packs" subtitle="Every client pack, updated live as visits are checked in." />
      <BoardFilterBar filters={filters} counts={counts.values} onChange={setFilters} />
      <ErrorList error={result.error} />
      {loading && <p className="loading">Loading packs…</p>}
      {page && page.ids.length === 0 && (
        <div className="empty">
          <p>No packs match these filters.</p>
          {filterKey && (
            <button type="button" className="btn" onClick={() => setFilters(EMPTY_FILTERS)}>
              Clear filters
            </button>
          )}
        </div>
      )}
      {page && page.ids.length > 0 && (
        <>
          <p className="board-range" aria-live="polite">
            Showing {first + 1}–{first + page.ids.length} of {page.totalCount}
          </p>
          <div className="pack-grid" data-testid="pack-board">
            {page.ids.map((id) => (
              <BoardCard key={id} id={id} filters={filters} />
            ))}
          </div>
          {(pageIndex > 0 || connection?.pageInfo.hasNextPage) && (
            <nav className="pager" aria-label="Pages">
              <button
                type="button"
                className="btn"
                disabled={pageIndex === 0}
                onClick={() => setCursors((c) => c.slice(0, -1))}
              >
                ← Previous
              </button>
              <span className="muted">
                Page {pageIndex + 1} of {Math.max(1, Math.ceil(page.totalCount / PAGE_SIZE))}
              </span>
              <button
                type="button"
                className="btn"
                disabled={!connection?.pageInfo.hasNextPage}
                onClick={() => setCursors((c) => [...c, connection?.pageInfo.endCursor ?? null])}
              >
                Next →
              </button>
            </nav>
          )}
        </>
      )}
    </div>
  );
}

function BoardCard({ id, filters }: { id: string; filters: BoardFilters }) {
  const pack = usePack(id);
  const changedAt = usePackChangedAt(id);
  if (!pack) return null;
  // A card that stops matching stays put until the next load, so nothing moves under the pointer.
  const stale = !packMatches(pack, filters, new Date());
  return (
    <PackCard
      pack={pack}
      changedAt={changedAt}
      note={stale ? "Changed: no longer matches these filters" : undefined}
    />
  );
}

function useStatusCounts(filters: BoardFilters, now: Date) {
  const variables = useMemo(
    () => ({
      active: toPackFilter(filters, now, "ACTIVE"),
      expired: toPackFilter(filters, now, "EXPIRED"),
      fullyUsed: toPackFilter(filters, now, "FULLY_USED"),
      cancelled: toPackFilter(filters, now, "CANCELLED"),
    }),
    [filters, now],
  );
  const [result, reexecute] = useQuery({ query: PackStatusCountsDocument, variables });
  const refresh = useDebounced(() => reexecute({ requestPolicy: "network-only" }), 400);
  // The last counts stay up while a refresh is on its way or fails (e.g. the server restarts).
  const [values, setValues] = useState<Record<PackStatus, number> | null>(null);
  const data = result.data;
  useEffect(() => setValues(null), [variables]);
  useEffect(() => {
    if (!data) return;
    setValues({
      ACTIVE: data.active.totalCount,
      EXPIRED: data.expired.totalCount,
      FULLY_USED: data.fullyUsed.totalCount,
      CANCELLED: data.cancelled.totalCount,
    });
  }, [data]);
  return { values, refresh };
}
