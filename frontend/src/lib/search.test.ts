import { describe, expect, it } from "vitest";
import { clientMatchesSearch, matchesSearch, normaliseField, phoneDigits, searchWords } from "./search";
import table from "./searchCases.json";

// The table the server's API is tested with too (tests/api/test_search_cases.py).
const clients = table.clients as Record<string, { name: string; phone: string; email: string }>;
const packs = table.packs as Record<string, { name: string; client: string }>;

function cardOf(key: string) {
  const pack = packs[key];
  return { name: pack.name, client: clients[pack.client] };
}

describe("search follows the shared table of cases", () => {
  it.each(table.cases)("$why: “$search”", (row) => {
    const foundPacks = Object.keys(packs).filter((key) => matchesSearch(row.search, cardOf(key)));
    const foundClients = Object.keys(clients).filter((key) => clientMatchesSearch(row.search, clients[key]));
    expect({ packs: foundPacks.sort(), clients: foundClients.sort() }).toEqual({
      packs: [...row.packs].sort(),
      clients: [...row.clients].sort(),
    });
  });
});

describe("search normalising", () => {
  it("splits a search into words of letters and digits", () => {
    expect(searchWords("O’Brien-Smith, Jr.")).toEqual(["o", "brien", "smith", "jr"]);
    expect(searchWords("Straße ﬁne ０４１２")).toEqual(["strasse", "fine", "0412"]);
    expect(searchWords("ΟΔΟΣ İstanbul Łódź")).toEqual(["οδοσ", "istanbul", "lodz"]);
    expect(searchWords(" !? ")).toEqual([]);
  });

  it("stores fields as the server does", () => {
    expect(normaliseField("  Seán  O’Brien-Smith ")).toBe("sean obriensmith");
    expect(normaliseField("Physio — 6 sessions")).toBe("physio 6 sessions");
    expect(phoneDigits("+61 (0)412 345-678")).toBe("610412345678");
    expect(phoneDigits("０４１２ ９９９")).toBe("0412999");
  });
});
