import type { PackStatus, PaymentStatus, AppointmentStatus } from "../gql/graphql";

export const STATUS_LABEL: Record<PackStatus, string> = {
  ACTIVE: "Active",
  EXPIRED: "Expired",
  FULLY_USED: "Fully Used",
  CANCELLED: "Cancelled",
};

export const PAYMENT_LABEL: Record<PaymentStatus, string> = {
  PAID: "Paid",
  PARTIAL: "Partial",
  UNPAID: "Unpaid",
};

/** Pack status: a filled pill (blue / violet / slate / grey). */
export function StatusBadge({ status }: { status: PackStatus }) {
  return (
    <span className={`badge badge-status status-${status.toLowerCase()}`} data-testid="status-badge">
      {STATUS_LABEL[status]}
    </span>
  );
}

/** Payment status: a soft pill with a dot (green / yellow / red), distinct from status pills. */
export function PaymentBadge({ status }: { status: PaymentStatus }) {
  return (
    <span className={`badge badge-payment payment-${status.toLowerCase()}`} data-testid="payment-badge">
      <span className="badge-dot" aria-hidden="true" />
      {PAYMENT_LABEL[status]}
    </span>
  );
}

export const APPOINTMENT_LABEL: Record<AppointmentStatus, string> = {
  BOOKED: "Booked",
  ATTENDED: "Checked in",
  NO_SHOW: "No-show",
  CANCELLED: "Cancelled",
};

export function AppointmentBadge({ status }: { status: AppointmentStatus }) {
  return (
    <span className={`badge badge-appointment appointment-${status.toLowerCase()}`}>
      {APPOINTMENT_LABEL[status]}
    </span>
  );
}
