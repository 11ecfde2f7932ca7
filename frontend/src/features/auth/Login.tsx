import { useMemo, useState, type FormEvent } from "react";
import { Client, fetchExchange } from "@urql/core";
import { LoginDocument } from "../../gql/graphql";
import { useSession } from "../../lib/session";

/** Sign in with email and password; the token is kept so a reload stays signed in. */
export function Login() {
  const { signIn } = useSession();
  const client = useMemo(
    () => new Client({ url: "/graphql", exchanges: [fetchExchange], requestPolicy: "network-only" }),
    [],
  );
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const result = await client
      .mutation(LoginDocument, { input: { email: email.trim(), password } })
      .toPromise();
    setBusy(false);
    const payload = result.data?.login;
    if (payload?.token && payload.viewer) {
      signIn({ token: payload.token, viewer: payload.viewer });
      return;
    }
    if (payload?.userErrors.length) setError(payload.userErrors.map((e) => e.message).join(" "));
    else if (result.error?.networkError)
      setError("Cannot reach the server. Check the connection and try again.");
    else setError(result.error?.graphQLErrors[0]?.message ?? "Sign-in failed. Try again.");
  }

  return (
    <main className="login">
      <form className="login-card panel" onSubmit={submit} aria-labelledby="login-heading">
        <div className="brand brand-large" aria-hidden="true">
          <span className="brand-mark">p</span>
          <span>packgraph</span>
        </div>
        <h1 id="login-heading">Sign in</h1>
        <p className="muted">Prepaid packs, live at every desk.</p>
        <label className="field">
          Email
          <input
            type="email"
            name="email"
            autoComplete="username"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            required
            autoFocus
          />
        </label>
        <label className="field">
          Password
          <input
            type="password"
            name="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        {error && (
          <p className="alert alert-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
