// The Reports view's figures in words: tiles from packSummary, and the chart's points.
import type { Metric, PackSummaryQuery } from "../../gql/graphql";
import { formatAmount, formatDay, formatMoney } from "../../lib/format";

export type Summary = PackSummaryQuery["packSummary"];

export interface Tile {
  id: string;
  label: string;
  value: string;
  /** A line under the value: what the figure means, or the other metrics. */
  detail?: string;
  /** The pack board filtered to what the tile counts. */
  to?: string;
  tone?: "default" | "money" | "warn";
}

type MetricRedemptions = Summary["redeemedToday"][number];

/** "also 3.25 hours and $355.00 of credit" for the metrics other than sessions; null when none. */
export function otherMetrics(rows: readonly MetricRedemptions[], currency: string): string | null {
  const parts = rows
    .filter((row) => row.metric !== "SESSIONS" && row.units !== 0)
    .map((row) =>
      row.metric === "MONEY"
        ? `${formatAmount(row.units, "MONEY", currency)} of credit`
        : formatAmount(row.units, row.metric as Metric, currency),
    );
  return parts.length ? `Also ${parts.join(" and ")}.` : null;
}

export function statusTiles(summary: Summary): Tile[] {
  const counts = summary.countsByStatus;
  return [
    { id: "active", label: "Active", value: String(counts.active), to: "/?status=ACTIVE" },
    { id: "expired", label: "Expired", value: String(counts.expired), to: "/?status=EXPIRED" },
    { id: "fully-used", label: "Fully used", value: String(counts.fullyUsed), to: "/?status=FULLY_USED" },
    { id: "cancelled", label: "Cancelled", value: String(counts.cancelled), to: "/?status=CANCELLED" },
    { id: "total", label: "All packs", value: String(counts.total), to: "/" },
  ];
}

export function moneyTiles(summary: Summary): Tile[] {
  const packs = (n: number) => `${n} ${n === 1 ? "pack" : "packs"}`;
  return [
    {
      id: "balance-due",
      label: "Outstanding balance due",
      value: formatMoney(summary.outstandingBalanceDue, summary.currency),
      detail: "Still to collect on packs sold (cancelled packs left out).",
      to: "/?due=1",
      tone: "money",
    },
    {
      id: "unearned",
      label: "Unearned liability",
      value: formatMoney(summary.unearnedLiability, summary.currency),
      detail: "Value of prepaid sessions not yet delivered on open packs.",
      tone: "money",
    },
    {
      id: "client-credit",
      label: "Client credit held",
      value: formatMoney(summary.clientCredit, summary.currency),
      detail: "Money clients have on account, owed in services or a refund.",
      tone: "money",
    },
    {
      id: "expiring",
      label: "Expiring in the next 30 days",
      value: packs(summary.expiringWithin30Days),
      detail: "Open packs to remind clients about.",
      to: "/?expiring=30",
      tone: summary.expiringWithin30Days > 0 ? "warn" : "default",
    },
  ];
}

export function activityTiles(summary: Summary): Tile[] {
  const sessions = (n: number) => `${n} ${n === 1 ? "session" : "sessions"}`;
  const packs = (n: number) => `${n} ${n === 1 ? "pack" : "packs"}`;
  return [
    {
      id: "redeemed-today",
      label: "Redeemed today",
      value: sessions(summary.unitsRedeemedToday),
      detail: otherMetrics(summary.redeemedToday, summary.currency) ?? "Net of reversals.",
    },
    {
      id: "redeemed-month",
      label: "Redeemed this month",
      value: sessions(summary.unitsRedeemedThisMonth),
      detail: otherMetrics(summary.redeemedThisMonth, summary.currency) ?? "Net of reversals.",
    },
    {
      id: "fully-used-month",
      label: "Packs used up this month",
      value: packs(summary.packsFullyUsedThisMonth),
      detail: "Clients to offer a new pack (see Tasks).",
    },
  ];
}

export interface ChartPoint {
  date: string;
  /** "27 Nov" for the axis. */
  label: string;
  /** "Fri 27 Nov 2026" for the tooltip and the table. */
  long: string;
  redemptions: number;
  sessions: number;
}

const SHORT = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", timeZone: "UTC" });
const WEEKDAY = new Intl.DateTimeFormat(undefined, { weekday: "short", timeZone: "UTC" });

/** The chart's points, oldest first, labelled in the business's calendar (dates have no zone). */
export function chartPoints(days: Summary["redemptionsPerDay"]): ChartPoint[] {
  return days.map((day) => {
    const noon = new Date(`${day.date}T12:00:00Z`);
    return {
      date: day.date,
      label: SHORT.format(noon),
      long: `${WEEKDAY.format(noon)} ${formatDay(day.date)}`,
      redemptions: day.redemptions,
      sessions: day.sessions,
    };
  });
}

/** "38 visits deducted in the last 30 days; busiest day Fri 27 Nov 2026 (38)." */
export function chartSummary(points: readonly ChartPoint[]): string {
  const total = points.reduce((sum, point) => sum + point.redemptions, 0);
  if (total === 0) return "No visits were deducted from packs in the last 30 days.";
  const busiest = points.reduce((best, point) => (point.redemptions > best.redemptions ? point : best));
  return `${total} ${total === 1 ? "visit" : "visits"} deducted from packs in the last 30 days; busiest day ${busiest.long} (${busiest.redemptions}).`;
}
