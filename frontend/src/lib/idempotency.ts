/**
 * Idempotency keys for the mutations that move money or sessions: the same key for one thing
 * the user means to do (a double click or a retry after a lost response does it once), a new
 * key for the next.
 *
 * `crypto.getRandomValues` rather than `crypto.randomUUID`: the latter exists only in secure
 * contexts, and a clinic may open the dashboard over plain HTTP on its own network.
 */
export function newAttemptKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The key of one attempt at a request: the same attempt with the same values gives the same
 * key; changed values (another amount) are another request. */
export function requestKey(attempt: string, ...values: readonly (string | number)[]): string {
  return [attempt, ...values].join(":");
}
