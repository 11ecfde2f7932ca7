import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { AddPackNoteDocument, RecordPaymentDocument, type PaymentMethod } from "../../gql/graphql";
import { formatMoney, inputToMinor, minorToInput } from "../../lib/format";
import { useIdempotencyKey } from "../../lib/idempotency";
import { useLocale } from "../../lib/session";
import { ErrorList, type UserErrorLike } from "../../ui/UserErrors";
import { PaymentMethodSelect } from "./PaymentMethodSelect";
import type { PackSnapshot } from "./packStore";
import { usePackStore } from "./packStoreContext";

/** Record a (partial) payment against the pack. */
export function RecordPaymentForm({ pack, onDone }: { pack: PackSnapshot; onDone: () => void }) {
  const { currency } = useLocale();
  const store = usePackStore();
  const [amount, setAmount] = useState(() =>
    pack.balanceDue > 0 ? minorToInput(pack.balanceDue, currency) : "",
  );
  const [method, setMethod] = useState<PaymentMethod>("CARD");
  // A double click or a retry after a lost response records the payment once.
  const idempotency = useIdempotencyKey();
  const [errors, setErrors] = useState<readonly UserErrorLike[]>([]);
  const [done, setDone] = useState<string | null>(null);
  const [state, execute] = useMutation(RecordPaymentDocument);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setDone(null);
    const minor = inputToMinor(amount, currency);
    if (minor === null) {
      setErrors([{ code: "INVALID", message: "Enter an amount greater than zero." }]);
      return;
    }
    const idempotencyKey = idempotency.keyFor(minor, method);
    const result = await execute({ input: { packId: pack.id, amount: minor, method, idempotencyKey } });
    const payload = result.data?.recordPayment;
    setErrors(payload?.userErrors ?? []);
    if (payload) idempotency.answered();
    if (payload?.pack) {
      store.merge(payload.pack, { highlight: true });
      setDone(`Payment of ${formatMoney(minor, currency)} recorded.`);
      setAmount(payload.pack.balanceDue > 0 ? minorToInput(payload.pack.balanceDue, currency) : "");
      onDone();
    }
  }

  if (pack.status === "CANCELLED") return null;
  return (
    <form className="action-form" onSubmit={submit} aria-labelledby="payment-heading">
      <h3 id="payment-heading">Record payment</h3>
      <p className="muted">
        Paid {formatMoney(pack.amountPaid, currency)} of {formatMoney(pack.finalPrice, currency)}
        {pack.balanceDue > 0 ? ` · ${formatMoney(pack.balanceDue, currency)} due` : " · fully paid"}
      </p>
      {pack.balanceDue > 0 && (
        <div className="form-row">
          <label className="field">
            Amount
            <input
              type="text"
              inputMode="decimal"
              name="amount"
              value={amount}
              onChange={(e) => setAmount(e.target.value)}
              required
            />
          </label>
          <PaymentMethodSelect label="Method" name="method" value={method} onChange={setMethod} />
          <button type="submit" className="btn btn-primary" disabled={state.fetching}>
            Record payment
          </button>
        </div>
      )}
      <ErrorList userErrors={errors} error={state.error} />
      {done && (
        <p className="alert alert-ok" role="status">
          {done}
        </p>
      )}
    </form>
  );
}

/** Add a note (payment arrangements, preferences) visible to everyone on the pack's history. */
export function AddNoteForm({ packId, onDone }: { packId: string; onDone: () => void }) {
  const store = usePackStore();
  const [text, setText] = useState("");
  const [errors, setErrors] = useState<readonly UserErrorLike[]>([]);
  const [state, execute] = useMutation(AddPackNoteDocument);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!text.trim()) return;
    const result = await execute({ input: { packId, text: text.trim() } });
    const payload = result.data?.addPackNote;
    setErrors(payload?.userErrors ?? []);
    if (payload && payload.userErrors.length === 0) {
      if (payload.pack) store.merge(payload.pack, { highlight: true });
      setText("");
      onDone();
    }
  }

  return (
    <form className="action-form" onSubmit={submit} aria-labelledby="note-heading">
      <h3 id="note-heading">Add note</h3>
      <label className="field">
        <span className="visually-hidden">Note</span>
        <textarea
          name="note"
          value={text}
          placeholder="e.g. Agreed to pay $50 per visit"
          onChange={(e) => setText(e.target.value)}
        />
      </label>
      <div className="form-actions">
        <button type="submit" className="btn" disabled={state.fetching || !text.trim()}>
          Add note
        </button>
      </div>
      <ErrorList userErrors={errors} error={state.error} />
    </form>
  );
}
