// The pack board's filters and the pure rules for keeping a loaded page right as live events arrive:
// a pack that now matches the filters appears on the first page where a fresh load would put it, a
// deleted pack disappears, and a card already shown stays in place (marked when it no longer
// matches) so nothing jumps under the cursor. tests/live/test_live_board.py and liveVerify.test.ts
// check these rules against fresh loads of the board.
import type { PackFilter, PackStatus, PaymentStatus } from "../../gql/graphql";
import { matchesSearch } from "../../lib/search";
import type { PackSnapshot } from "./packStore";

export interface BoardFilters {
  status: PackStatus | null;
  payment: PaymentStatus | null;
  expiringWithinDays: number | null;
  balanceDue: boolean;
  search: string;
}

export const EMPTY_FILTERS: BoardFilters = {
  status: null,
  payment: null,
  expiringWithinDays: null,
  balanceDue: false,
  search: "",
};

export const STATUSES: readonly PackStatus[] = ["ACTIVE", "EXPIRED", "FULLY_USED", "CANCELLED"];
export const PAYMENT_STATUSES: readonly PaymentStatus[] = ["PAID", "PARTIAL", "UNPAID"];
export const EXPIRY_WINDOWS: readonly number[] = [7, 14, 30, 60, 90];

/** Filters from the query string (?status=ACTIVE&payment=UNPAID&expiring=30&due=1&q=anna). */
export function filtersFromSearch(search: string): BoardFilters {
  const params = new URLSearchParams(search);
  const status = params.get("status");
  const payment = params.get("payment");
  const expiring = Number(params.get("expiring"));
  return {
    status: STATUSES.includes(status as PackStatus) ? (status as PackStatus) : null,
    payment: PAYMENT_STATUSES.includes(payment as PaymentStatus) ? (payment as PaymentStatus) : null,
    expiringWithinDays: Number.isInteger(expiring) && expiring > 0 ? expiring : null,
    balanceDue: params.get("due") === "1",
    search: params.get("q") ?? "",
  };
}

export function filtersToSearch(filters: BoardFilters): string {
  const params = new URLSearchParams();
  if (filters.status) params.set("status", filters.status);
  if (filters.payment) params.set("payment", filters.payment);
  if (filters.expiringWithinDays) params.set("expiring", String(filters.expiringWithinDays));
  if (filters.balanceDue) params.set("due", "1");
  if (filters.search.trim()) params.set("q", filters.search.trim());
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** The instant before which a pack counts as "expiring within N days". */
export function expiringBefore(days: number, now: Date): Date {
  return new Date(now.getTime() + days * 86_400_000);
}

/**
 * The server-side filter for the board (status optional: counts use the same filter per status).
 * "Expiring within N days" means packs still open that will expire in that window, so it implies
 * ACTIVE (the server's expiringBefore alone would include packs that expired long ago).
 */
export function toPackFilter(
  filters: BoardFilters,
  now: Date,
  status: PackStatus | null = filters.status,
): PackFilter {
  const filter: PackFilter = {};
  if (filters.expiringWithinDays && !status) status = "ACTIVE";
  if (status) filter.status = [status];
  if (filters.payment) filter.paymentStatus = [filters.payment];
  if (filters.expiringWithinDays) {
    filter.expiringBefore = expiringBefore(filters.expiringWithinDays, now).toISOString();
  }
  if (filters.balanceDue) filter.hasBalanceDue = true;
  if (filters.search.trim()) filter.search = filters.search.trim();
  return filter;
}

/** The same rules as the server's filter, for deciding whether a live pack belongs on the board. */
export function packMatches(pack: PackSnapshot, filters: BoardFilters, now: Date): boolean {
  if (filters.status && pack.status !== filters.status) return false;
  if (filters.payment && pack.paymentStatus !== filters.payment) return false;
  if (filters.balanceDue && !(pack.balanceDue > 0)) return false;
  if (filters.expiringWithinDays) {
    if (!pack.expiresAt || pack.status !== "ACTIVE") return false;
    // The server's expiringBefore: strictly before that instant.
    const expires = new Date(pack.expiresAt).getTime();
    if (expires >= expiringBefore(filters.expiringWithinDays, now).getTime()) return false;
  }
  return matchesSearch(filters.search, pack);
}

/** Status tabs that can hold packs under these filters (an expiring pack is always Active). */
export function statusSelectable(status: PackStatus, filters: BoardFilters): boolean {
  return !filters.expiringWithinDays || status === "ACTIVE";
}

export interface BoardPage {
  /** Pack ids in display order. */
  ids: string[];
  totalCount: number;
}

export interface BoardEvent {
  type: string;
  pack: PackSnapshot | null;
}

/**
 * The page after a live event. Only the first page takes in new packs (later pages keep their
 * cursor-defined window), each at its place in the board's order (the query's default: newest
 * purchase first), so the page reads as a fresh load would. Deleted packs leave every page.
 * `packOf` gives the snapshot of a card on the page (the store's).
 */
export function pageAfterEvent(
  page: BoardPage,
  event: BoardEvent,
  filters: BoardFilters,
  options: {
    firstPage: boolean;
    now: Date;
    packOf: (id: string) => PackSnapshot | undefined;
    deletedId?: string | null;
  },
): BoardPage {
  const id = event.pack?.id ?? options.deletedId ?? null;
  if (!id) return page;
  const shown = page.ids.includes(id);
  if (event.type === "PACK_DELETED") {
    if (!shown) return page;
    return { ids: page.ids.filter((x) => x !== id), totalCount: Math.max(0, page.totalCount - 1) };
  }
  if (shown || !event.pack || !options.firstPage) return page;
  if (!packMatches(event.pack, filters, options.now)) return page;
  // Before the first card bought at the same time or earlier: a pack bought days ago (sold late,
  // or newly matching) goes below newer ones, not on top. On a tie the newer pack (a new sale)
  // comes first, as the server's id order has it.
  const purchased = new Date(event.pack.purchasedAt).getTime();
  let position = page.ids.findIndex((shownId) => {
    const shownPack = options.packOf(shownId);
    return shownPack !== undefined && new Date(shownPack.purchasedAt).getTime() <= purchased;
  });
  if (position < 0) position = page.ids.length;
  const ids = [...page.ids.slice(0, position), id, ...page.ids.slice(position)];
  return { ids, totalCount: page.totalCount + 1 };
}
