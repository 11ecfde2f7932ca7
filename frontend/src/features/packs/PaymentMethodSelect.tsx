import type { PaymentMethod } from "../../gql/graphql";

/** The payment methods the front desk picks from, in that order, with their labels (CLIENT_CREDIT
 * is set by the server when credit moves, never picked). */
export const PAYMENT_METHODS: readonly { value: Exclude<PaymentMethod, "CLIENT_CREDIT">; label: string }[] = [
  { value: "CARD", label: "Card" },
  { value: "CASH", label: "Cash" },
  { value: "BANK_TRANSFER", label: "Bank transfer" },
  { value: "INSURER", label: "Insurer" },
  { value: "VOUCHER", label: "Voucher" },
  { value: "OTHER", label: "Other" },
];

export function methodLabel(method: PaymentMethod): string {
  if (method === "CLIENT_CREDIT") return "Client credit";
  return PAYMENT_METHODS.find((m) => m.value === method)?.label ?? method;
}

/** A labelled select of the payment methods, for payments and refunds. */
export function PaymentMethodSelect({
  label,
  name,
  value,
  onChange,
}: {
  label: string;
  name: string;
  value: PaymentMethod;
  onChange: (method: PaymentMethod) => void;
}) {
  return (
    <label className="field">
      {label}
      <select name={name} value={value} onChange={(e) => onChange(e.target.value as PaymentMethod)}>
        {PAYMENT_METHODS.map((m) => (
          <option key={m.value} value={m.value}>
            {m.label}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The fields of money given back: the amount, how it is paid out and why (`name`s prefixed). */
export function RefundFields({
  prefix,
  amount,
  onAmount,
  method,
  onMethod,
  reason,
  onReason,
}: {
  prefix: string;
  amount: string;
  onAmount: (value: string) => void;
  method: PaymentMethod;
  onMethod: (method: PaymentMethod) => void;
  reason: string;
  onReason: (value: string) => void;
}) {
  return (
    <>
      <label className="field field-narrow">
        Amount
        <input
          type="text"
          inputMode="decimal"
          name={`${prefix}Amount`}
          value={amount}
          onChange={(e) => onAmount(e.target.value)}
        />
      </label>
      <PaymentMethodSelect label="Method" name={`${prefix}Method`} value={method} onChange={onMethod} />
      <label className="field field-grow">
        Reason
        <input
          type="text"
          name={`${prefix}Reason`}
          value={reason}
          onChange={(e) => onReason(e.target.value)}
        />
      </label>
    </>
  );
}
