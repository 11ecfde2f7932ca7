import { useEffect, useMemo } from "react";
import { useQuery } from "urql";
import { PackDetailDocument } from "../../gql/graphql";
import { Link } from "../../lib/router";
import { useCanManage, useLocale } from "../../lib/session";
import { ErrorList } from "../../ui/UserErrors";
import { InvestigationPanel } from "../diagnosis/InvestigationPanel";
import { useDebounced, useOnResume, usePackEvents } from "../live/LiveContext";
import { ManagePack } from "./ManagePack";
import { AddNoteForm, RecordPaymentForm } from "./PackActions";
import { PackCard } from "./PackCard";
import { buildTimeline, PackHistory } from "./PackHistory";
import { usePack, usePackChangedAt, usePackDeleted, usePackStore } from "./packStoreContext";

/** One pack: its live card, history timeline and the actions the viewer's role allows. */
export function PackDetail({ id }: { id: string }) {
  const { currency, timezone } = useLocale();
  const canManage = useCanManage();
  const store = usePackStore();
  const [result, reexecute] = useQuery({ query: PackDetailDocument, variables: { id } });
  const detail = result.data?.pack ?? null;
  useEffect(() => {
    if (detail) store.merge(detail);
  }, [detail, store]);

  const pack = usePack(id, detail ?? undefined);
  const changedAt = usePackChangedAt(id);
  const deleted = usePackDeleted(id);

  // The card changes from the event's snapshot at once; the history list is reloaded behind it.
  const refresh = useDebounced(() => reexecute({ requestPolicy: "network-only" }), 250);
  usePackEvents((event) => {
    if (event.pack?.id === id) refresh();
  });
  useOnResume(() => refresh());

  const timeline = useMemo(
    () => (detail ? buildTimeline(detail, currency, timezone) : []),
    [detail, currency, timezone],
  );

  if (result.fetching && !detail) return <p className="loading">Loading pack…</p>;
  if (!pack) {
    return (
      <div className="detail-missing">
        <ErrorList error={result.error} />
        {!result.error && <div className="empty">This pack does not exist or was deleted.</div>}
        <Link to="/" className="btn">
          Back to packs
        </Link>
      </div>
    );
  }

  return (
    <div className="detail">
      <nav className="breadcrumbs" aria-label="Breadcrumb">
        <Link to="/">Packs</Link>
        <span aria-hidden="true"> / </span>
        <Link to={`/clients/${pack.client.id}`}>{pack.client.name}</Link>
        <span aria-hidden="true"> / </span>
        <span aria-current="page">{pack.name}</span>
      </nav>
      {deleted && (
        <p className="alert alert-info" role="status">
          This pack was deleted. It no longer appears in lists; its history is kept.
        </p>
      )}
      <div className="detail-grid">
        <div className="detail-main">
          <PackCard pack={pack} changedAt={changedAt} linkTitle={false} />
          {!deleted && <InvestigationPanel pack={pack} onFixed={refresh} />}
          <section className="panel" aria-label="Payments and notes">
            <RecordPaymentForm pack={pack} onDone={refresh} />
            <AddNoteForm packId={pack.id} onDone={refresh} />
          </section>
          {canManage && !deleted && (
            <ManagePack pack={pack} refundQuote={detail?.refundQuote ?? 0} onDone={refresh} />
          )}
        </div>
        <section className="panel detail-history" aria-labelledby="history-heading">
          <h2 id="history-heading">History</h2>
          <ErrorList error={result.error} />
          <PackHistory entries={timeline} />
        </section>
      </div>
    </div>
  );
}
