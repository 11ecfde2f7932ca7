// The live feed of pack events since the dashboard opened (newest first, bounded).
import type { PackEvent } from "../../lib/api";
import { formatDate, formatMoney } from "../../lib/format";

export const FEED_LIMIT = 300;

export class ActivityFeed {
  private events: PackEvent[] = [];
  private listeners = new Set<() => void>();
  readonly since = new Date();

  push(event: PackEvent): void {
    if (this.events.some((e) => e.cursor === event.cursor)) return;
    this.events = [event, ...this.events].slice(0, FEED_LIMIT);
    for (const listener of this.listeners) listener();
  }

  list(): readonly PackEvent[] {
    return this.events;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

interface VoidDetails {
  invoiceNumber: string;
  description: string;
  reason: string;
  amount: number;
  voided: boolean;
}

/** The recorded details of INVOICE_LINE_VOIDED / INVOICE_VOIDED, read defensively. */
function voidDetails(details: unknown): VoidDetails {
  const d = (details ?? {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === "string" ? value : "");
  return {
    invoiceNumber: text(d.invoiceNumber),
    description: text(d.description),
    reason: text(d.reason),
    amount: typeof d.amount === "number" ? d.amount : 0,
    voided: d.voided === true,
  };
}

/** The amount a credit event moved, positive: its payment row's, else its recorded details'. */
function creditAmount(event: PackEvent): number {
  if (event.payment) return Math.abs(event.payment.amount);
  const amount = (event.details as { amount?: unknown } | null)?.amount;
  return typeof amount === "number" ? Math.abs(amount) : 0;
}

export type EventTone = "visit" | "money" | "change" | "warning" | "neutral";

export interface EventDescription {
  label: string;
  text: string;
  tone: EventTone;
}

/** One line a receptionist understands, e.g. "Session 4 of 10 used". */
export function describeEvent(
  event: PackEvent,
  locale: { currency: string; timezone: string },
): EventDescription {
  const pack = event.pack;
  const allowance = pack ? pack.items.reduce((sum, i) => sum + i.allowance, 0) : 0;
  const session = event.entry?.sessionNumber;
  switch (event.type) {
    case "PACK_SOLD":
      return {
        label: "Sold",
        text: `New pack${pack ? ` for ${formatMoney(pack.finalPrice, locale.currency)}` : ""}`,
        tone: "money",
      };
    case "SESSION_REDEEMED":
      return {
        label: "Visit",
        text:
          session != null && pack?.metric === "SESSIONS"
            ? `Session ${session} of ${allowance} used`
            : session != null
              ? `Visit ${session} charged to the pack`
              : "Session used",
        tone: "visit",
      };
    case "REDEMPTION_REVERSED":
      return {
        label: "Reversed",
        text: session != null ? `Session ${session} given back` : "Redemption given back",
        tone: "change",
      };
    case "PACK_CORRECTED":
      return {
        label: "Correction",
        text: `Correction: ${event.entry?.reason || "no reason given"}`,
        tone: "change",
      };
    case "PAYMENT_RECORDED":
      return {
        label: "Payment",
        text: `Received ${formatMoney(event.payment?.amount ?? 0, locale.currency)}`,
        tone: "money",
      };
    case "PAYMENT_REFUNDED":
      return {
        label: "Refund",
        text: `Refunded ${formatMoney(Math.abs(event.payment?.amount ?? 0), locale.currency)}`,
        tone: "money",
      };
    case "EXPIRY_CHANGED":
      return {
        label: "Expiry",
        text: pack?.expiresAt
          ? `Expiry changed to ${formatDate(pack.expiresAt, locale.timezone)}`
          : "Expiry removed: never expires",
        tone: "change",
      };
    case "PACK_EXPIRING_SOON":
      return {
        label: "Expiring",
        text: pack?.expiresAt ? `Expires ${formatDate(pack.expiresAt, locale.timezone)}` : "Expiring soon",
        tone: "warning",
      };
    case "PACK_EXPIRED":
      return { label: "Expired", text: "Pack expired", tone: "warning" };
    case "PACK_FULLY_USED":
      return { label: "Fully used", text: "Last session used: pack complete", tone: "warning" };
    case "PACK_CANCELLED":
      return {
        label: "Cancelled",
        text: pack?.cancelReason ? `Cancelled: ${pack.cancelReason}` : "Pack cancelled",
        tone: "warning",
      };
    case "PACK_DELETED":
      return { label: "Deleted", text: "Pack deleted", tone: "neutral" };
    case "NOTE_ADDED": {
      const text = (event.details as { text?: unknown } | null)?.text;
      return {
        label: "Note",
        text: typeof text === "string" && text ? `Note: ${text}` : "Note added",
        tone: "neutral",
      };
    }
    case "ALLOCATIONS_MOVED":
      return { label: "Moved", text: "Visits moved between packs", tone: "change" };
    case "INVOICE_LINE_VOIDED": {
      const details = voidDetails(event.details);
      const what = details.voided ? details.description || "A charge" : "Unpaid part of the sale";
      return {
        label: "Voided",
        text: `${what} voided on ${details.invoiceNumber || "the invoice"} (${formatMoney(details.amount, locale.currency)})${details.reason ? `: ${details.reason}` : ""}`,
        tone: "money",
      };
    }
    case "INVOICE_VOIDED": {
      const details = voidDetails(event.details);
      return {
        label: "Voided",
        text: `Invoice ${details.invoiceNumber || ""} voided${details.reason ? `: ${details.reason}` : ""}`,
        tone: "money",
      };
    }
    case "CLIENT_CREDITED":
      return {
        label: "Credit",
        text: `${formatMoney(creditAmount(event), locale.currency)} moved to the client's credit`,
        tone: "money",
      };
    case "CREDIT_APPLIED":
      return {
        label: "Credit",
        text: `Paid ${formatMoney(creditAmount(event), locale.currency)} from the client's credit`,
        tone: "money",
      };
    case "CREDIT_REFUNDED":
      return {
        label: "Refund",
        text: `Refunded ${formatMoney(creditAmount(event), locale.currency)} of the client's credit`,
        tone: "money",
      };
    case "SERVICE_CHANGED": {
      const d = (event.details ?? {}) as Record<string, unknown>;
      const name = typeof d.serviceName === "string" ? d.serviceName : "another service";
      const money = (value: unknown) => formatMoney(typeof value === "number" ? value : 0, locale.currency);
      const invoice = typeof d.invoiceNumber === "string" ? ` on ${d.invoiceNumber}` : "";
      return {
        label: "Service",
        text: `Visit changed to ${name}${invoice}: charged ${money(d.amountAfter)} instead of ${money(d.amountBefore)}`,
        tone: "change",
      };
    }
    default:
      return { label: "Change", text: String(event.type).toLowerCase().replace(/_/g, " "), tone: "neutral" };
  }
}
