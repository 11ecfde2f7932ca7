// Live state equals a fresh query (issue 13, item 6), on the dashboard's side.
//
// tests/live/test_live_board.py opened the board under every filter the filter bar offers, ran pack
// changes through the API, recorded the packEvents the dashboard's subscription received and loaded
// every board again. Here those events go through the dashboard's own code, as App.tsx and Board.tsx
// apply them, and each board must come out as its fresh load: the same cards in the same order with
// the same snapshots, and the same count once the cards marked "no longer matches" are left out.
//
// The recording is __fixtures__/liveVerify.json; regenerate it with `make fixtures` (see that test's
// docstring) after changing the card's fields, the filters or the server's rules.
import { describe, expect, it } from "vitest";
import recorded from "./__fixtures__/liveVerify.json";
import {
  packMatches,
  pageAfterEvent,
  type BoardEvent,
  type BoardFilters,
  type BoardPage,
} from "./boardState";
import { PackStore, type PackSnapshot } from "./packStore";

interface RecordedBoards {
  /** Every pack on any of the boards, as that load returned it. */
  packs: Record<string, PackSnapshot>;
  /** Per filter (same order as `filters`): the page's pack ids and count. */
  boards: { ids: string[]; totalCount: number }[];
}

interface LiveVerifyRecording {
  now: string;
  filters: BoardFilters[];
  loaded: RecordedBoards;
  events: BoardEvent[];
  fresh: RecordedBoards;
}

const recording = recorded as unknown as LiveVerifyRecording;
const now = new Date(recording.now);

/** One open board: loaded once, then every recorded event as the dashboard applies it. */
function liveBoard(index: number) {
  const filters = recording.filters[index];
  const loaded = recording.loaded.boards[index];
  const store = new PackStore();
  // Board.tsx: the query's nodes go to the store, their ids become the page.
  store.mergeAll(loaded.ids.map((id) => recording.loaded.packs[id]));
  let page: BoardPage = { ids: [...loaded.ids], totalCount: loaded.totalCount };
  for (const event of recording.events) {
    // App.tsx createServices: the store takes the event first ...
    if (event.pack) store.merge(event.pack, { highlight: true });
    if (event.type === "PACK_DELETED" && event.pack) store.markDeleted(event.pack.id);
    // ... then the board's listener (Board.tsx, on the first page).
    page = pageAfterEvent(page, event, filters, { firstPage: true, now, packOf: (id) => store.get(id) });
  }
  // Board.tsx BoardCard: each card from the store, marked when it no longer matches.
  const cards = page.ids.map((id) => store.get(id)).filter((pack) => pack !== undefined);
  const matching = cards.filter((pack) => packMatches(pack, filters, now));
  return { matching, marked: cards.length - matching.length, totalCount: page.totalCount };
}

function label(filters: BoardFilters): string {
  const parts = [
    filters.status,
    filters.payment,
    filters.expiringWithinDays && `expiring ${filters.expiringWithinDays}d`,
    filters.balanceDue && "balance due",
    filters.search && `search "${filters.search}"`,
  ];
  return parts.filter(Boolean).join(", ") || "all packs";
}

describe("a live board replaying the recorded events", () => {
  it("replays a recording that changes the boards with every kind of pack event", () => {
    const types = new Set(recording.events.map((event) => event.type));
    expect(types.size).toBe(20);
    expect(types).toContain("PAYMENT_REFUNDED");
    expect(types).toContain("INVOICE_LINE_VOIDED");
    expect(types).toContain("INVOICE_VOIDED");
    expect(types).toContain("CLIENT_CREDITED");
    expect(types).toContain("CREDIT_APPLIED");
    expect(types).toContain("CREDIT_REFUNDED");
    expect(types).toContain("SERVICE_CHANGED");
    const changed = recording.filters.filter(
      (_, index) =>
        JSON.stringify(recording.loaded.boards[index].ids) !==
        JSON.stringify(recording.fresh.boards[index].ids),
    );
    expect(changed.length).toBeGreaterThan(recording.filters.length / 2);
  });

  it.each(recording.filters.map((filters, index) => [label(filters), index] as const))(
    "equals a fresh load of the board: %s",
    (_, index) => {
      const fresh = recording.fresh.boards[index];
      const live = liveBoard(index);
      expect(live.matching.map((pack) => pack.id)).toEqual(fresh.ids);
      expect(live.matching).toEqual(fresh.ids.map((id) => recording.fresh.packs[id]));
      expect(live.totalCount - live.marked).toBe(fresh.totalCount);
    },
  );
});
