import type { PaymentMethod } from "../../gql/graphql";

/** The schema's payment methods, in the order the front desk picks them, with their labels. */
export const PAYMENT_METHODS: readonly { value: PaymentMethod; label: string }[] = [
  { value: "CARD", label: "Card" },
  { value: "CASH", label: "Cash" },
  { value: "BANK_TRANSFER", label: "Bank transfer" },
  { value: "INSURER", label: "Insurer" },
  { value: "VOUCHER", label: "Voucher" },
  { value: "OTHER", label: "Other" },
];

export function methodLabel(method: PaymentMethod): string {
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
