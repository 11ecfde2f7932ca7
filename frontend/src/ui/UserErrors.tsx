import type { CombinedError } from "@urql/core";

export interface UserErrorLike {
  code: string;
  field?: readonly string[] | null;
  message: string;
}

/** Expected failures (payload userErrors) and transport errors, said plainly. */
export function ErrorList({
  userErrors,
  error,
}: {
  userErrors?: readonly UserErrorLike[] | null;
  error?: CombinedError | null;
}) {
  const messages = [...(userErrors ?? []).map((e) => e.message), ...(error ? [describeError(error)] : [])];
  if (messages.length === 0) return null;
  return (
    <div className="alert alert-error" role="alert">
      {messages.length === 1 ? (
        messages[0]
      ) : (
        <ul>
          {messages.map((m, i) => (
            <li key={i}>{m}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function describeError(error: CombinedError): string {
  if (error.networkError) return "Cannot reach the server. Check the connection and try again.";
  const first = error.graphQLErrors[0];
  return first ? first.message : error.message;
}
