import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import {
  CancelPackDocument,
  ChangePackExpiryDocument,
  CorrectPackBalanceDocument,
  DeletePackDocument,
  RefundPaymentDocument,
  type Metric,
  type PaymentMethod,
} from "../../gql/graphql";
import {
  endOfLocalDayIso,
  formatMoney,
  formatQuantity,
  inputToMinor,
  minorToInput,
  toDateInput,
} from "../../lib/format";
import { useIdempotencyKey } from "../../lib/idempotency";
import { useRouter } from "../../lib/router";
import { useLocale } from "../../lib/session";
import { ErrorList, type UserErrorLike } from "../../ui/UserErrors";
import { PAYMENT_METHODS, RefundFields } from "./PaymentMethodSelect";
import type { PackSnapshot } from "./packStore";
import { usePackStore } from "./packStoreContext";

/** Manager/owner tools: change or remove expiry, correct balances, refund, cancel, delete. */
export function ManagePack({
  pack,
  refundQuote,
  onDone,
}: {
  pack: PackSnapshot;
  refundQuote: number;
  onDone: () => void;
}) {
  return (
    <section className="panel manage-panel" aria-labelledby="manage-heading" data-testid="manage-pack">
      <h2 id="manage-heading">Manage pack</h2>
      <p className="muted manage-hint">Managers and owners only. Every change is logged in the history.</p>
      <ExpiryEditor pack={pack} onDone={onDone} />
      {pack.status !== "CANCELLED" && <CorrectionEditor pack={pack} onDone={onDone} />}
      {pack.amountPaid > 0 && <RefundForm pack={pack} onDone={onDone} />}
      <div className="danger-zone">
        {pack.status !== "CANCELLED" && (
          <CancelPackForm pack={pack} refundQuote={refundQuote} onDone={onDone} />
        )}
        <DeletePackButton pack={pack} />
      </div>
    </section>
  );
}

function ExpiryEditor({ pack, onDone }: { pack: PackSnapshot; onDone: () => void }) {
  const { timezone } = useLocale();
  const store = usePackStore();
  const [date, setDate] = useState(() => (pack.expiresAt ? toDateInput(pack.expiresAt, timezone) : ""));
  const [reason, setReason] = useState("");
  const [errors, setErrors] = useState<readonly UserErrorLike[]>([]);
  const [done, setDone] = useState<string | null>(null);
  const [state, execute] = useMutation(ChangePackExpiryDocument);

  async function change(expiresAt: string | null) {
    setDone(null);
    const result = await execute({
      input: { packId: pack.id, expiresAt, reason: reason.trim() || undefined },
    });
    const payload = result.data?.changePackExpiry;
    setErrors(payload?.userErrors ?? []);
    if (payload?.pack) {
      store.merge(payload.pack, { highlight: true });
      setDone(expiresAt ? "Expiry changed." : "Expiry removed: the pack never expires.");
      if (!expiresAt) setDate("");
      setReason("");
      onDone();
    }
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!date) {
      setErrors([{ code: "INVALID", message: "Choose a date, or use Remove expiry." }]);
      return;
    }
    void change(endOfLocalDayIso(date, timezone));
  }

  return (
    <form className="manage-block" onSubmit={submit} aria-labelledby="expiry-heading">
      <h3 id="expiry-heading">Expiry date</h3>
      <div className="form-row">
        <label className="field">
          New expiry date
          <input type="date" name="expiresAt" value={date} onChange={(e) => setDate(e.target.value)} />
        </label>
        <label className="field field-grow">
          <span>
            Reason <span className="hint">(required to bring back an expired pack)</span>
          </span>
          <input type="text" name="expiryReason" value={reason} onChange={(e) => setReason(e.target.value)} />
        </label>
      </div>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={state.fetching}>
          Change expiry
        </button>
        {pack.expiresAt && (
          <button type="button" className="btn" disabled={state.fetching} onClick={() => void change(null)}>
            Remove expiry
          </button>
        )}
      </div>
      <ErrorList userErrors={errors} error={state.error} />
      {done && (
        <p className="alert alert-ok" role="status">
          {done}
        </p>
      )}
    </form>
  );
}

/** Units per click for a correction: one session, one hour, or an amount of money. */
function stepInput(metric: Metric): string {
  return metric === "MONEY" ? "10.00" : "1";
}

function toUnits(raw: string, metric: Metric, currency: string): number | null {
  if (metric === "MONEY") return inputToMinor(raw, currency);
  const value = Number(raw.replace(",", "."));
  if (!Number.isFinite(value) || value <= 0) return null;
  const units = metric === "MINUTES" ? Math.round(value * 60) : Math.round(value);
  return units > 0 ? units : null;
}

function CorrectionEditor({ pack, onDone }: { pack: PackSnapshot; onDone: () => void }) {
  const { currency } = useLocale();
  const store = usePackStore();
  const [reason, setReason] = useState("");
  const [amount, setAmount] = useState(() => stepInput(pack.metric));
  const [errors, setErrors] = useState<readonly UserErrorLike[]>([]);
  const [done, setDone] = useState<string | null>(null);
  const [state, execute] = useMutation(CorrectPackBalanceDocument);
  const unitLabel = pack.metric === "SESSIONS" ? "Sessions" : pack.metric === "MINUTES" ? "Hours" : "Amount";

  async function correct(itemId: string, sign: 1 | -1) {
    setDone(null);
    if (!reason.trim()) {
      setErrors([
        { code: "INVALID", message: "Enter a reason for the correction: it is shown in the history." },
      ]);
      return;
    }
    const units = toUnits(amount, pack.metric, currency);
    if (units === null) {
      setErrors([{ code: "INVALID", message: `Enter how much to correct (${unitLabel.toLowerCase()}).` }]);
      return;
    }
    const result = await execute({
      input: { packId: pack.id, itemId, delta: sign * units, reason: reason.trim() },
    });
    const payload = result.data?.correctPackBalance;
    setErrors(payload?.userErrors ?? []);
    if (payload?.pack) {
      store.merge(payload.pack, { highlight: true });
      setDone(`Correction saved: ${reason.trim()}`);
      setReason("");
      onDone();
    }
  }

  return (
    <div className="manage-block" role="group" aria-labelledby="correction-heading">
      <h3 id="correction-heading">Session correction</h3>
      <div className="form-row">
        <label className="field field-grow">
          <span>
            Reason <span className="hint">(shown in the history as “Correction: reason”)</span>
          </span>
          <input
            type="text"
            name="correctionReason"
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            placeholder="e.g. Paper card session from March"
          />
        </label>
        <label className="field field-narrow">
          {unitLabel}
          <input
            type="text"
            inputMode="decimal"
            name="correctionAmount"
            value={amount}
            onChange={(e) => setAmount(e.target.value)}
          />
        </label>
      </div>
      <ul className="correction-items">
        {pack.items.map((item) => {
          const services = item.services.map((s) => s.name).join(", ") || "Any service";
          return (
            <li key={item.id} className="correction-item">
              <div>
                <span className="correction-services">{services}</span>
                <span className="muted">
                  {" "}
                  {formatQuantity(item.used, pack.metric, currency)}/
                  {formatQuantity(item.allowance, pack.metric, currency)} used
                </span>
              </div>
              <div className="correction-buttons">
                <button
                  type="button"
                  className="btn btn-small btn-minus"
                  disabled={state.fetching || item.remaining === 0}
                  onClick={() => void correct(item.id, -1)}
                  aria-label={`Mark used: ${services}`}
                >
                  − Mark used
                </button>
                <button
                  type="button"
                  className="btn btn-small btn-plus"
                  disabled={state.fetching || item.used === 0}
                  onClick={() => void correct(item.id, 1)}
                  aria-label={`Give back: ${services}`}
                >
                  + Give back
                </button>
              </div>
            </li>
          );
        })}
      </ul>
      <ErrorList userErrors={errors} error={state.error} />
      {done && (
        <p className="alert alert-ok" role="status">
          {done}
        </p>
      )}
    </div>
  );
}

function CancelPackForm({
  pack,
  refundQuote,
  onDone,
}: {
  pack: PackSnapshot;
  refundQuote: number;
  onDone: () => void;
}) {
  const { currency } = useLocale();
  const store = usePackStore();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [refund, setRefund] = useState(() => (refundQuote > 0 ? minorToInput(refundQuote, currency) : ""));
  // A payment method to pay the refund out in, or the client's credit.
  const [refundBy, setRefundBy] = useState<PaymentMethod>("CARD");
  const [errors, setErrors] = useState<readonly UserErrorLike[]>([]);
  const [state, execute] = useMutation(CancelPackDocument);
  const toCredit = refundBy === "CLIENT_CREDIT";

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!reason.trim()) {
      setErrors([{ code: "INVALID", message: "Enter why the pack is cancelled." }]);
      return;
    }
    const refundMinor = refund.trim() ? inputToMinor(refund, currency) : 0;
    if (refundMinor === null) {
      setErrors([{ code: "INVALID", message: "The refund must be an amount (or empty for none)." }]);
      return;
    }
    const result = await execute({
      input: {
        packId: pack.id,
        reason: reason.trim(),
        refund: refundMinor,
        method: refundMinor > 0 && !toCredit ? refundBy : null,
        refundTo: toCredit ? "CLIENT_CREDIT" : "PAID_OUT",
      },
    });
    const payload = result.data?.cancelPack;
    setErrors(payload?.userErrors ?? []);
    if (payload?.pack) {
      store.merge(payload.pack, { highlight: true });
      setOpen(false);
      onDone();
    }
  }

  if (!open) {
    return (
      <button type="button" className="btn btn-danger" onClick={() => setOpen(true)}>
        Cancel pack…
      </button>
    );
  }
  return (
    <form className="manage-block confirm-block" onSubmit={submit} aria-labelledby="cancel-heading">
      <h3 id="cancel-heading">Cancel this pack</h3>
      <p className="muted">
        The client can no longer use it. Paid {formatMoney(pack.amountPaid, currency)}; suggested refund{" "}
        {formatMoney(refundQuote, currency)} (paid minus value used).
      </p>
      <div className="form-row">
        <label className="field field-grow">
          Reason
          <input type="text" name="cancelReason" value={reason} onChange={(e) => setReason(e.target.value)} />
        </label>
        <label className="field field-narrow">
          Refund
          <input
            type="text"
            inputMode="decimal"
            name="refund"
            value={refund}
            onChange={(e) => setRefund(e.target.value)}
          />
        </label>
        <label className="field">
          Refund by
          <select
            name="cancelRefundMethod"
            value={refundBy}
            onChange={(e) => setRefundBy(e.target.value as PaymentMethod)}
          >
            {PAYMENT_METHODS.map((m) => (
              <option key={m.value} value={m.value}>
                {m.label}
              </option>
            ))}
            <option value="CLIENT_CREDIT">Keep as client credit</option>
          </select>
        </label>
      </div>
      <div className="form-actions">
        <button type="submit" className="btn btn-danger-solid" disabled={state.fetching}>
          Confirm cancellation
        </button>
        <button type="button" className="btn btn-ghost" onClick={() => setOpen(false)}>
          Keep pack
        </button>
      </div>
      <ErrorList userErrors={errors} error={state.error} />
    </form>
  );
}

/** Give back part or all of what was paid for the pack, with a reason (managers and owners). */
function RefundForm({ pack, onDone }: { pack: PackSnapshot; onDone: () => void }) {
  const { currency } = useLocale();
  const store = usePackStore();
  const [amount, setAmount] = useState("");
  const [method, setMethod] = useState<PaymentMethod>("CARD");
  const [reason, setReason] = useState("");
  const idempotency = useIdempotencyKey();
  const [errors, setErrors] = useState<readonly UserErrorLike[]>([]);
  const [done, setDone] = useState<string | null>(null);
  const [state, execute] = useMutation(RefundPaymentDocument);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setDone(null);
    const minor = inputToMinor(amount, currency);
    if (minor === null) {
      setErrors([{ code: "INVALID", message: "Enter the amount to give back." }]);
      return;
    }
    if (!reason.trim()) {
      setErrors([{ code: "INVALID", message: "Enter why the money is given back." }]);
      return;
    }
    const idempotencyKey = idempotency.keyFor(minor, method, reason.trim());
    const result = await execute({
      input: { packId: pack.id, amount: minor, method, reason: reason.trim(), idempotencyKey },
    });
    const payload = result.data?.refundPayment;
    setErrors(payload?.userErrors ?? []);
    if (payload) idempotency.answered();
    if (payload?.pack) {
      store.merge(payload.pack, { highlight: true });
      setDone(`Refund of ${formatMoney(minor, currency)} recorded.`);
      setAmount("");
      setReason("");
      onDone();
    }
  }

  return (
    <form className="manage-block" onSubmit={submit} aria-labelledby="refund-heading">
      <h3 id="refund-heading">Refund</h3>
      <p className="muted">Paid {formatMoney(pack.amountPaid, currency)}; give back up to that.</p>
      <div className="form-row">
        <RefundFields
          prefix="refund"
          amount={amount}
          onAmount={setAmount}
          method={method}
          onMethod={setMethod}
          reason={reason}
          onReason={setReason}
        />
        <button type="submit" className="btn" disabled={state.fetching}>
          Refund
        </button>
      </div>
      <ErrorList userErrors={errors} error={state.error} />
      {done && (
        <p className="alert alert-ok" role="status">
          {done}
        </p>
      )}
    </form>
  );
}

function DeletePackButton({ pack }: { pack: PackSnapshot }) {
  const { currency } = useLocale();
  const store = usePackStore();
  const { navigate } = useRouter();
  const [confirming, setConfirming] = useState(false);
  const [errors, setErrors] = useState<readonly UserErrorLike[]>([]);
  const [state, execute] = useMutation(DeletePackDocument);

  async function remove() {
    const result = await execute({ input: { packId: pack.id } });
    const payload = result.data?.deletePack;
    setErrors(payload?.userErrors ?? []);
    if (payload && payload.userErrors.length === 0) {
      store.markDeleted(pack.id);
      navigate("/");
    }
  }

  return (
    <div className="delete-block">
      {!confirming ? (
        <button type="button" className="btn btn-danger" onClick={() => setConfirming(true)}>
          Delete pack…
        </button>
      ) : (
        <div className="manage-block confirm-block" role="group" aria-labelledby="delete-heading">
          <h3 id="delete-heading">Delete this pack?</h3>
          <p className="muted">
            It disappears from lists; its history and events are kept.
            {pack.amountPaid > 0 &&
              ` The ${formatMoney(pack.amountPaid, currency)} paid for it moves to the client's credit.`}
          </p>
          <div className="form-actions">
            <button
              type="button"
              className="btn btn-danger-solid"
              disabled={state.fetching}
              onClick={() => void remove()}
            >
              Delete pack
            </button>
            <button
              type="button"
              className="btn btn-ghost"
              onClick={() => {
                setConfirming(false);
                setErrors([]);
              }}
            >
              Keep pack
            </button>
          </div>
        </div>
      )}
      <ErrorList userErrors={errors} error={state.error} />
    </div>
  );
}
