import { lazy, Suspense, useMemo } from "react";
import { useQuery } from "urql";
import { PackSummaryDocument } from "../../gql/graphql";
import { formatTime } from "../../lib/format";
import { Link } from "../../lib/router";
import { PageHeader } from "../../ui/Page";
import { ErrorList } from "../../ui/UserErrors";
import { useDebounced, useOnResume, usePackEvents } from "../live/LiveContext";
import {
  activityTiles,
  chartPoints,
  chartSummary,
  moneyTiles,
  statusTiles,
  type ChartPoint,
  type Tile,
} from "./summary";

const RedemptionsChart = lazy(() => import("./RedemptionsChart"));

/** The business's packs at a glance (packSummary): tiles and redemptions per day. Updates live. */
export function Reports() {
  const [result, reexecute] = useQuery({ query: PackSummaryDocument });
  const summary = result.data?.packSummary ?? null;
  // Any pack event can move a figure; a burst of them causes one refetch.
  const refresh = useDebounced(() => reexecute({ requestPolicy: "network-only" }), 1000);
  usePackEvents(() => refresh());
  useOnResume(() => refresh());
  const points = useMemo(() => (summary ? chartPoints(summary.redemptionsPerDay) : []), [summary]);

  return (
    <div className="reports">
      <PageHeader
        title="Reports"
        subtitle={
          summary
            ? `Updated ${formatTime(summary.generatedAt, summary.timezone)} · money in ${summary.currency} · days in ${summary.timezone.replace(/_/g, " ")} time`
            : "Packs, money and visits at a glance."
        }
        actions={
          <button
            type="button"
            className="btn"
            onClick={() => reexecute({ requestPolicy: "network-only" })}
            disabled={result.fetching}
          >
            {result.fetching ? "Refreshing…" : "Refresh"}
          </button>
        }
      />
      <ErrorList error={result.error} />
      {!summary ? (
        !result.error && <p className="loading">Loading the figures…</p>
      ) : (
        <>
          <TileGroup title="Packs by status" tiles={statusTiles(summary)} compact />
          <TileGroup title="Money and expiries" tiles={moneyTiles(summary)} />
          <TileGroup title="Visits deducted from packs" tiles={activityTiles(summary)} />
          <section className="panel report-chart" aria-labelledby="chart-heading">
            <h2 id="chart-heading">Visits deducted per day, last 30 days</h2>
            <p className="muted chart-summary" data-testid="chart-summary">
              {chartSummary(points)}
            </p>
            <Suspense fallback={<p className="loading">Loading the chart…</p>}>
              <RedemptionsChart points={points} />
            </Suspense>
            <ChartTable points={points} />
          </section>
        </>
      )}
    </div>
  );
}

function TileGroup({ title, tiles, compact }: { title: string; tiles: Tile[]; compact?: boolean }) {
  const id = `tiles-${title.toLowerCase().replace(/\W+/g, "-")}`;
  return (
    <section className="tile-group" aria-labelledby={id}>
      <h2 id={id} className="tile-group-title">
        {title}
      </h2>
      <ul className={`tiles${compact ? " tiles-compact" : ""}`}>
        {tiles.map((tile) => (
          <li key={tile.id} className={`tile tile-${tile.tone ?? "default"}`} data-testid={`tile-${tile.id}`}>
            <span className="tile-label">{tile.label}</span>
            <span className="tile-value" data-testid="tile-value">
              {tile.value}
            </span>
            {tile.detail && <span className="tile-detail">{tile.detail}</span>}
            {tile.to && (
              <Link
                to={tile.to}
                className="tile-link"
                aria-label={`${tile.label}: ${tile.value}. Show the packs`}
              >
                <span aria-hidden="true">Show packs →</span>
              </Link>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The chart's figures as a table, for screen readers and anyone who wants the numbers. */
function ChartTable({ points }: { points: readonly ChartPoint[] }) {
  return (
    <details className="chart-table">
      <summary>Show the figures as a table</summary>
      <table className="lines">
        <thead>
          <tr>
            <th scope="col">Day</th>
            <th scope="col" className="num">
              Visits deducted
            </th>
            <th scope="col" className="num">
              Sessions
            </th>
          </tr>
        </thead>
        <tbody>
          {[...points].reverse().map((point) => (
            <tr key={point.date}>
              <td>{point.long}</td>
              <td className="num">{point.redemptions}</td>
              <td className="num">{point.sessions}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
