import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import {
  RefundClientCreditDocument,
  type ClientCreditFieldsFragment,
  type CreditKind,
  type PaymentMethod,
} from "../../gql/graphql";
import { formatDateTime, formatMoney, inputToMinor, minorToInput } from "../../lib/format";
import { useIdempotencyKey } from "../../lib/idempotency";
import { useCanManage, useLocale } from "../../lib/session";
import { ErrorList, type UserErrorLike } from "../../ui/UserErrors";
import { methodLabel, RefundFields } from "../packs/PaymentMethodSelect";

type Entry = ClientCreditFieldsFragment["creditEntries"][number];

const KIND_LABELS: Record<CreditKind, string> = {
  CREDITED: "Credited",
  APPLIED: "Applied",
  REFUNDED: "Refunded",
};

/** What an entry did, in the receptionist's words: "Applied to INV-00012". */
export function describeCreditEntry(entry: Entry): string {
  const invoice = entry.invoice?.number;
  switch (entry.kind) {
    case "CREDITED":
      return `${entry.reason || "Moved to client credit"}${invoice ? ` (${invoice})` : ""}`;
    case "APPLIED":
      return `Paid ${invoice ?? "an invoice"}`;
    case "REFUNDED":
      return `Given back ${entry.method ? methodLabel(entry.method).toLowerCase() : ""}${entry.reason ? `: ${entry.reason}` : ""}`;
  }
}

/** The client's credit: the balance, the latest changes, and for managers a refund of it.
 * Shown once the client has had credit. */
export function ClientCredit({
  clientId,
  credit,
  onChanged,
}: {
  clientId: string;
  credit: ClientCreditFieldsFragment;
  onChanged: () => void;
}) {
  const { currency, timezone } = useLocale();
  const canManage = useCanManage();
  const [refunding, setRefunding] = useState(false);
  if (credit.creditEntries.length === 0) return null;
  return (
    <section className="panel client-credit" aria-labelledby="credit-heading">
      <header className="credit-header">
        <h2 id="credit-heading">Client credit</h2>
        <span className="credit-balance" aria-label="Credit balance">
          {formatMoney(credit.creditBalance, currency)}
        </span>
        {credit.creditBalance > 0 && (
          <span className="muted">Pay invoices with it from the Invoices tab.</span>
        )}
        {canManage && credit.creditBalance > 0 && !refunding && (
          <button type="button" className="btn btn-small" onClick={() => setRefunding(true)}>
            Refund credit…
          </button>
        )}
      </header>
      {refunding && (
        <RefundCreditForm
          clientId={clientId}
          balance={credit.creditBalance}
          onClose={() => setRefunding(false)}
          onChanged={onChanged}
        />
      )}
      <table className="lines credit-entries">
        <caption className="visually-hidden">Latest credit changes</caption>
        <colgroup>
          <col className="col-when" />
          <col />
          <col className="col-amount" />
          <col className="col-amount" />
        </colgroup>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">What</th>
            <th scope="col" className="num">
              Amount
            </th>
            <th scope="col" className="num">
              Credit after
            </th>
          </tr>
        </thead>
        <tbody>
          {credit.creditEntries.map((entry) => (
            <tr key={entry.id}>
              <td>{formatDateTime(entry.createdAt, timezone)}</td>
              <td>
                <span className={`badge credit-${entry.kind.toLowerCase()}`}>{KIND_LABELS[entry.kind]}</span>{" "}
                {describeCreditEntry(entry)}
              </td>
              <td className="num">{formatMoney(entry.amount, currency)}</td>
              <td className="num">{formatMoney(entry.balanceAfter, currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function RefundCreditForm({
  clientId,
  balance,
  onClose,
  onChanged,
}: {
  clientId: string;
  balance: number;
  onClose: () => void;
  onChanged: () => void;
}) {
  const { currency } = useLocale();
  const [amount, setAmount] = useState(minorToInput(balance, currency));
  const [method, setMethod] = useState<PaymentMethod>("CARD");
  const [reason, setReason] = useState("");
  const [errors, setErrors] = useState<readonly UserErrorLike[]>([]);
  const idempotency = useIdempotencyKey();
  const [state, execute] = useMutation(RefundClientCreditDocument);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const minor = inputToMinor(amount, currency);
    if (minor === null) {
      setErrors([{ code: "INVALID", message: "Enter the amount to give back." }]);
      return;
    }
    if (!reason.trim()) {
      setErrors([{ code: "INVALID", message: "Enter why the credit is given back." }]);
      return;
    }
    const idempotencyKey = idempotency.keyFor(minor, method, reason.trim());
    const result = await execute({
      input: { clientId, amount: minor, method, reason: reason.trim(), idempotencyKey },
    });
    const payload = result.data?.refundClientCredit;
    setErrors(payload?.userErrors ?? []);
    if (payload) idempotency.answered();
    if (payload && payload.userErrors.length === 0) {
      onClose();
      onChanged();
    }
  }

  return (
    <form className="manage-block" onSubmit={submit} aria-label="Refund client credit">
      <p className="muted">
        Give back up to {formatMoney(balance, currency)} of credit to the client. It is recorded with the
        reason.
      </p>
      <div className="form-row">
        <RefundFields
          prefix="creditRefund"
          amount={amount}
          onAmount={setAmount}
          method={method}
          onMethod={setMethod}
          reason={reason}
          onReason={setReason}
        />
        <button type="submit" className="btn" disabled={state.fetching}>
          Refund credit
        </button>
        <button type="button" className="btn btn-ghost" onClick={onClose}>
          Keep
        </button>
      </div>
      <ErrorList userErrors={errors} error={state.error} />
    </form>
  );
}
