// Search as the server does it (SPEC §6.7, src/packgraph/domain/search.py): every word of the text must
// appear, whatever its case and accents, in the pack's name or its client's name, phone (digits only) or
// email; a client's words in its own name, phone or email. Both sides are tested against one table of
// cases (searchCases.json), so a live card joins the board exactly when a fresh load would list it.
//
// Text is normalised as the server stores it: NFKD, lower case, combining marks dropped, a few letters
// without a decomposition spelled out. The words of a search are its runs of letters and digits; a
// stored field keeps its spaces and drops its punctuation ("O'Brien" is "obrien"); a phone keeps its
// digits only, so only an all-digit word can match it.

// The server's table (domain/search.py FOLDED).
const FOLDED: Readonly<Record<string, string>> = {
  æ: "ae",
  œ: "oe",
  ø: "o",
  ß: "ss",
  ð: "d",
  đ: "d",
  ħ: "h",
  ı: "i",
  ł: "l",
  ŧ: "t",
  þ: "th",
  ς: "σ",
};
const FOLDABLE = new RegExp(`[${Object.keys(FOLDED).join("")}]`, "gu");
// Unicode's space separators plus the ASCII controls, as on the server (not JavaScript's own \s).
const SEPARATORS = /[\p{Z}\t\n\v\f\r]+/u;

function folded(text: string): string {
  return text
    .normalize("NFKD")
    .toLowerCase()
    .replace(/\p{M}/gu, "")
    .replace(FOLDABLE, (letter) => FOLDED[letter] ?? letter);
}

/** The words of a search text; none for empty text or punctuation only (which match everything). */
export function searchWords(text: string): string[] {
  return folded(text)
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word !== "");
}

/** A name or email as the server stores it for search: words without punctuation, one space apart. */
export function normaliseField(text: string): string {
  return folded(text)
    .split(SEPARATORS)
    .map((word) => word.replace(/[^\p{L}\p{N}]/gu, ""))
    .filter((word) => word !== "")
    .join(" ");
}

/** The digits of a phone number (full-width ones as ASCII). */
export function phoneDigits(phone: string): string {
  return phone.normalize("NFKD").replace(/\P{Nd}/gu, "");
}

export interface SearchableClient {
  name: string;
  phone: string;
  email: string;
}

export interface SearchableCard {
  name: string;
  client: SearchableClient;
}

function clientFields(client: SearchableClient): string[] {
  return [normaliseField(client.name), phoneDigits(client.phone), normaliseField(client.email)];
}

function everyWordIn(text: string, fields: string[]): boolean {
  return searchWords(text).every((word) => fields.some((field) => field.includes(word)));
}

/** Whether the board's search `text` lists this pack card. */
export function matchesSearch(text: string, card: SearchableCard): boolean {
  return everyWordIn(text, [normaliseField(card.name), ...clientFields(card.client)]);
}

/** Whether the clients list's search `text` lists this client. */
export function clientMatchesSearch(text: string, client: SearchableClient): boolean {
  return everyWordIn(text, clientFields(client));
}
