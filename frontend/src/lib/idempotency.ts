import { useCallback, useState } from "react";

/**
 * Idempotency keys for the mutations that move money: the same key for one thing the user means
 * to do (a double click or a retry after a lost response does it once), a new key for the next.
 *
 * `crypto.getRandomValues` rather than `crypto.randomUUID`: the latter exists only in secure
 * contexts, and a clinic may open the dashboard over plain HTTP on its own network.
 */
function newAttemptKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * A form's idempotency keys. `keyFor(values)` is the key of this attempt at a request with these
 * values (other values, another request); call `answered()` once the server has answered, done
 * or refused, so the next submission is a new attempt. Without an answer (a lost response) the
 * retry keeps the key.
 */
export function useIdempotencyKey() {
  const [attempt, setAttempt] = useState(newAttemptKey);
  const keyFor = useCallback(
    (...values: readonly (string | number)[]) => [attempt, ...values].join(":"),
    [attempt],
  );
  const answered = useCallback(() => setAttempt(newAttemptKey()), []);
  return { keyFor, answered };
}
