import type { Metric, PackDetailQuery } from "../../gql/graphql";
import { formatDateTime, formatMoney, formatQuantity } from "../../lib/format";
import { useLocale } from "../../lib/session";
import { methodLabel } from "./PaymentMethodSelect";

type DetailPack = NonNullable<PackDetailQuery["pack"]>;

export type TimelineKind =
  "redemption" | "reversal" | "correction" | "payment" | "refund" | "note" | "expiry";

export interface TimelineEntry {
  key: string;
  kind: TimelineKind;
  at: string;
  title: string;
  detail?: string;
  staff?: string | null;
}

function units(quantity: number, metric: Metric, currency: string): string {
  const value = formatQuantity(Math.abs(quantity), metric, currency);
  if (metric === "SESSIONS") return `${value} ${Math.abs(quantity) === 1 ? "session" : "sessions"}`;
  if (metric === "MINUTES") return `${value} h`;
  return value;
}

/** Ledger entries, payments and notes of a pack as one timeline, newest first. */
type HistoryNode = DetailPack["history"]["edges"][number]["node"];

/** "Physio · visit 13 Nov 2026, 10:00 am · INV-00004": what a disputed session is checked against. */
function visitDetail(node: HistoryNode, timezone: string): string | undefined {
  const parts: string[] = [];
  if (node.appointment) {
    if (node.appointment.service) parts.push(node.appointment.service.name);
    parts.push(`visit ${formatDateTime(node.appointment.startsAt, timezone)}`);
  }
  if (node.invoiceLine?.invoice) parts.push(node.invoiceLine.invoice.number);
  if (node.reason) parts.push(node.reason);
  return parts.length ? parts.join(" · ") : undefined;
}

export function buildTimeline(pack: DetailPack, currency: string, timezone = "UTC"): TimelineEntry[] {
  const allowance = pack.items.reduce((sum, item) => sum + item.allowance, 0);
  // Session numbers count per item: "5 Physio + 5 Massage" has massage session 1 of 5, not of 10.
  const itemAllowance = (node: HistoryNode) =>
    pack.items.find((item) => item.id === node.item?.id)?.allowance;
  const entries: TimelineEntry[] = [];
  for (const { node } of pack.history.edges) {
    const staff = node.staff?.name ?? null;
    if (node.kind === "REDEMPTION") {
      const session =
        node.sessionNumber != null
          ? pack.metric === "SESSIONS"
            ? `Session ${node.sessionNumber} of ${itemAllowance(node) ?? allowance} used`
            : `Visit ${node.sessionNumber}: ${units(node.quantity, pack.metric, currency)} used`
          : `${units(node.quantity, pack.metric, currency)} used`;
      entries.push({
        key: `l${node.id}`,
        kind: "redemption",
        at: node.createdAt,
        title: session,
        detail: visitDetail(node, timezone),
        staff,
      });
    } else if (node.kind === "REVERSAL") {
      const what =
        node.sessionNumber != null ? `Session ${node.sessionNumber} reversed` : "Redemption reversed";
      entries.push({
        key: `l${node.id}`,
        kind: "reversal",
        at: node.createdAt,
        title: `${what}: ${units(node.quantity, pack.metric, currency)} given back`,
        detail: visitDetail(node, timezone),
        staff,
      });
    } else {
      const direction = node.quantity > 0 ? "marked used" : "given back";
      entries.push({
        key: `l${node.id}`,
        kind: "correction",
        at: node.createdAt,
        title: `Correction: ${node.reason || "no reason given"}`,
        detail: `${units(node.quantity, pack.metric, currency)} ${direction}`,
        staff,
      });
    }
  }
  for (const payment of pack.payments) {
    const refund = payment.amount < 0;
    entries.push({
      key: `p${payment.id}`,
      kind: refund ? "refund" : "payment",
      at: payment.receivedAt,
      title: `${refund ? "Refund" : "Payment"} ${formatMoney(Math.abs(payment.amount), currency)}`,
      detail:
        refund && payment.reason
          ? `${methodLabel(payment.method)} · ${payment.reason}`
          : methodLabel(payment.method),
      staff: payment.staff?.name ?? null,
    });
  }
  for (const note of pack.notes) {
    entries.push({
      key: `n${note.id}`,
      kind: "note",
      at: note.createdAt,
      title: "Note",
      detail: note.text,
      staff: note.staff?.name ?? null,
    });
  }
  return entries.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : b.key.localeCompare(a.key)));
}

const ICON: Record<TimelineKind, string> = {
  redemption: "✓",
  reversal: "↺",
  correction: "±",
  payment: "$",
  refund: "↩",
  note: "✎",
  expiry: "⌛",
};

export function PackHistory({ entries }: { entries: TimelineEntry[] }) {
  const { timezone } = useLocale();
  if (entries.length === 0) {
    return <p className="muted">Nothing has happened on this pack yet.</p>;
  }
  return (
    <ol className="timeline" data-testid="history">
      {entries.map((entry) => (
        <li key={entry.key} className={`timeline-entry timeline-${entry.kind}`} data-kind={entry.kind}>
          <span className="timeline-icon" aria-hidden="true">
            {ICON[entry.kind]}
          </span>
          <div className="timeline-body">
            <p className="timeline-title">{entry.title}</p>
            {entry.detail && <p className="timeline-detail">{entry.detail}</p>}
            <p className="timeline-meta">
              {entry.kind === "redemption" || entry.kind === "reversal" ? "Recorded " : ""}
              {formatDateTime(entry.at, timezone)}
              {entry.staff ? ` · ${entry.staff}` : ""}
            </p>
          </div>
        </li>
      ))}
    </ol>
  );
}
