import { describe, expect, it } from "vitest";
import searchCases from "../../lib/searchCases.json";
import { makePack } from "../../test/fixtures";
import {
  EMPTY_FILTERS,
  filtersFromSearch,
  filtersToSearch,
  packMatches,
  pageAfterEvent,
  toPackFilter,
  type BoardPage,
} from "./boardState";

const now = new Date("2025-06-01T00:00:00Z");

describe("board filters", () => {
  it("round-trip through the query string", () => {
    const filters = {
      status: "ACTIVE",
      payment: "PARTIAL",
      expiringWithinDays: 30,
      balanceDue: true,
      search: "anna",
    } as const;
    expect(filtersFromSearch(filtersToSearch(filters))).toEqual(filters);
    expect(filtersToSearch(EMPTY_FILTERS)).toBe("");
  });

  it("ignore values that are not filters", () => {
    expect(filtersFromSearch("?status=NOPE&expiring=-3&payment=x")).toEqual(EMPTY_FILTERS);
  });

  it("become the API filter", () => {
    const filter = toPackFilter(
      { ...EMPTY_FILTERS, expiringWithinDays: 30, balanceDue: true, search: " lee " },
      now,
    );
    expect(filter).toEqual({
      status: ["ACTIVE"],
      expiringBefore: "2025-07-01T00:00:00.000Z",
      hasBalanceDue: true,
      search: "lee",
    });
    expect(toPackFilter({ ...EMPTY_FILTERS, status: "ACTIVE" }, now, "EXPIRED").status).toEqual(["EXPIRED"]);
  });

  it("match packs like the server does", () => {
    const pack = makePack({ expiresAt: "2025-06-20T00:00:00Z", paymentStatus: "PARTIAL", balanceDue: 100 });
    expect(packMatches(pack, { ...EMPTY_FILTERS, expiringWithinDays: 30 }, now)).toBe(true);
    expect(packMatches(pack, { ...EMPTY_FILTERS, expiringWithinDays: 7 }, now)).toBe(false);
    // Like the server's expiringBefore: expiring exactly at the end of the window is outside it.
    const atTheEnd = { ...pack, expiresAt: "2025-07-01T00:00:00.000Z" };
    expect(packMatches(atTheEnd, { ...EMPTY_FILTERS, expiringWithinDays: 30 }, now)).toBe(false);
    expect(packMatches({ ...pack, expiresAt: null }, { ...EMPTY_FILTERS, expiringWithinDays: 30 }, now)).toBe(
      false,
    );
    expect(packMatches(pack, { ...EMPTY_FILTERS, payment: "PARTIAL", balanceDue: true }, now)).toBe(true);
    expect(packMatches(pack, { ...EMPTY_FILTERS, payment: "PAID" }, now)).toBe(false);
  });

  // The table the server's API is tested with (tests/api/test_search_cases.py): a live card joins the
  // board exactly when a fresh load would list it.
  it.each(searchCases.cases)("search as the server does: $why (“$search”)", (row) => {
    const clients = searchCases.clients as Record<string, { name: string; phone: string; email: string }>;
    const found = Object.entries(searchCases.packs)
      .filter(([key, { name, client }]) => {
        const pack = makePack({ id: key, name, client: { id: client, ...clients[client] } });
        return packMatches(pack, { ...EMPTY_FILTERS, search: row.search }, now);
      })
      .map(([key]) => key);
    expect(found.sort()).toEqual([...row.packs].sort());
  });
});

describe("applying a live event to a board page", () => {
  const shown = makePack({ id: "a" });
  const page: BoardPage = { ids: ["a"], totalCount: 1 };
  const packOf = (id: string) => (id === "a" ? shown : undefined);
  const options = { firstPage: true, now, packOf };

  it("puts a new pack that matches the filters first", () => {
    const sold = makePack({ id: "b" });
    expect(pageAfterEvent(page, { type: "PACK_SOLD", pack: sold }, EMPTY_FILTERS, options)).toEqual({
      ids: ["b", "a"],
      totalCount: 2,
    });
  });

  it("puts a pack bought earlier at its place in the board's order (newest purchase first)", () => {
    const older = makePack({ id: "b", purchasedAt: "2025-01-10T00:00:00Z" });
    const newer = makePack({ id: "c", purchasedAt: "2025-05-01T00:00:00Z" });
    const after = pageAfterEvent(page, { type: "PACK_SOLD", pack: older }, EMPTY_FILTERS, options);
    expect(after).toEqual({ ids: ["a", "b"], totalCount: 2 });
    const packs: Record<string, typeof shown> = { a: shown, b: older };
    const next = pageAfterEvent(after, { type: "PAYMENT_RECORDED", pack: newer }, EMPTY_FILTERS, {
      ...options,
      packOf: (id) => packs[id],
    });
    expect(next.ids).toEqual(["c", "a", "b"]);
  });

  it("leaves out a new pack that does not match", () => {
    const sold = makePack({ id: "b", paymentStatus: "UNPAID" });
    const filters = { ...EMPTY_FILTERS, payment: "PAID" as const };
    expect(pageAfterEvent(page, { type: "PACK_SOLD", pack: sold }, filters, options)).toBe(page);
  });

  it("adds nothing to later pages", () => {
    const sold = makePack({ id: "b" });
    expect(
      pageAfterEvent(page, { type: "PACK_SOLD", pack: sold }, EMPTY_FILTERS, {
        ...options,
        firstPage: false,
      }),
    ).toBe(page);
  });

  it("keeps a shown card in place when it changes (the store updates its contents)", () => {
    const next = { ...shown, version: 2, status: "FULLY_USED" as const };
    expect(
      pageAfterEvent(
        page,
        { type: "PACK_FULLY_USED", pack: next },
        { ...EMPTY_FILTERS, status: "ACTIVE" },
        options,
      ),
    ).toBe(page);
  });

  it("removes a deleted pack", () => {
    expect(pageAfterEvent(page, { type: "PACK_DELETED", pack: shown }, EMPTY_FILTERS, options)).toEqual({
      ids: [],
      totalCount: 0,
    });
  });
});
