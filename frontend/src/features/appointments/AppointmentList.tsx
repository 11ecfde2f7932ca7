import { useEffect, useState } from "react";
import { useMutation } from "urql";
import {
  CancelAppointmentDocument,
  CheckInAppointmentDocument,
  MarkNoShowDocument,
  type AppointmentFieldsFragment,
} from "../../gql/graphql";
import { formatDate, formatTime, remainingSummary } from "../../lib/format";
import { Link } from "../../lib/router";
import { useLocale } from "../../lib/session";
import { AppointmentBadge } from "../../ui/Badges";
import { ErrorList, type UserErrorLike } from "../../ui/UserErrors";
import type { PackSnapshot } from "../packs/packStore";
import { usePackStore } from "../packs/packStoreContext";

interface Props {
  appointments: readonly AppointmentFieldsFragment[];
  /** Show the date as well as the time (client profile); Today shows times only. */
  showDate?: boolean;
  showClient?: boolean;
  onChanged: () => void;
  emptyText: string;
}

/** Appointments with Check in / No-show / Cancel; results update the pack store at once. */
export function AppointmentList({ appointments, showDate, showClient = true, onChanged, emptyText }: Props) {
  if (appointments.length === 0) return <div className="empty">{emptyText}</div>;
  return (
    <ul className="appointments" data-testid="appointments">
      {appointments.map((appointment) => (
        <AppointmentRow
          key={appointment.id}
          appointment={appointment}
          showDate={showDate}
          showClient={showClient}
          onChanged={onChanged}
        />
      ))}
    </ul>
  );
}

function packLine(pack: PackSnapshot, currency: string): string {
  const item = pack.items[0];
  const remaining = pack.items.reduce((sum, i) => sum + i.remaining, 0);
  const allowance = pack.items.reduce((sum, i) => sum + i.allowance, 0);
  if (!item) return pack.name;
  return `${pack.name}: ${remainingSummary(remaining, allowance, pack.metric, currency)}`;
}

function AppointmentRow({
  appointment: initial,
  showDate,
  showClient,
  onChanged,
}: {
  appointment: AppointmentFieldsFragment;
  showDate?: boolean;
  showClient?: boolean;
  onChanged: () => void;
}) {
  const { timezone, currency } = useLocale();
  const store = usePackStore();
  const [override, setOverride] = useState<AppointmentFieldsFragment | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [errors, setErrors] = useState<readonly UserErrorLike[]>([]);
  const [checkIn, executeCheckIn] = useMutation(CheckInAppointmentDocument);
  const [noShow, executeNoShow] = useMutation(MarkNoShowDocument);
  const [cancel, executeCancel] = useMutation(CancelAppointmentDocument);
  // A mutation result shows at once; the next list load (a fresh `initial`) takes over again.
  useEffect(() => setOverride(null), [initial]);
  const appointment = override ?? initial;
  const busy = checkIn.fetching || noShow.fetching || cancel.fetching;
  const error = checkIn.error ?? noShow.error ?? cancel.error;

  async function doCheckIn() {
    setMessage(null);
    const result = await executeCheckIn({
      input: { appointmentId: appointment.id, idempotencyKey: `check-in:${appointment.id}` },
    });
    const payload = result.data?.checkInAppointment;
    setErrors(payload?.userErrors ?? []);
    if (payload?.appointment) setOverride(payload.appointment);
    if (payload?.pack) {
      store.merge(payload.pack, { highlight: true });
      const session = payload.entry?.sessionNumber;
      setMessage(
        session != null && payload.pack.metric === "SESSIONS"
          ? `Session ${session} used · ${packLine(payload.pack, currency)}`
          : `Charged to ${packLine(payload.pack, currency)}`,
      );
    } else if (payload?.appointment) {
      setMessage("Checked in. No pack covers this service: charged at the service price.");
    }
    if (payload?.appointment) onChanged();
  }

  async function doNoShow() {
    setMessage(null);
    const result = await executeNoShow({ input: { appointmentId: appointment.id } });
    const payload = result.data?.markNoShow;
    setErrors(payload?.userErrors ?? []);
    if (payload?.pack) {
      store.merge(payload.pack, { highlight: true });
      setMessage(`No-show charged to ${packLine(payload.pack, currency)}`);
    }
    if (payload?.appointment) {
      setOverride(payload.appointment);
      onChanged();
    }
  }

  async function doCancel() {
    setMessage(null);
    const result = await executeCancel({ input: { appointmentId: appointment.id } });
    const payload = result.data?.cancelAppointment;
    setErrors(payload?.userErrors ?? []);
    if (payload?.appointment) setOverride(payload.appointment);
    for (const pack of payload?.packs ?? []) {
      store.merge(pack, { highlight: true });
      setMessage(`Given back to ${packLine(pack, currency)}`);
    }
    if (payload?.appointment) onChanged();
  }

  const booked = appointment.status === "BOOKED";
  const attended = appointment.status === "ATTENDED";
  return (
    <li
      className={`appointment appointment-row-${appointment.status.toLowerCase()}`}
      data-testid="appointment"
      data-appointment-id={appointment.id}
    >
      <div className="appointment-time">
        <span className="appointment-clock">{formatTime(appointment.startsAt, timezone)}</span>
        {showDate && <span className="appointment-date">{formatDate(appointment.startsAt, timezone)}</span>}
      </div>
      <div className="appointment-main">
        {showClient && (
          <Link to={`/clients/${appointment.client.id}`} className="appointment-client">
            {appointment.client.name}
          </Link>
        )}
        <span className={showClient ? "appointment-service" : "appointment-service appointment-service-main"}>
          {appointment.service?.name ?? "Appointment"}
          {appointment.practitioner ? ` · with ${appointment.practitioner.name}` : ""}
          {appointment.noCharge ? " · no charge" : ""}
        </span>
        {message && (
          <span className="appointment-message" role="status">
            {message}
          </span>
        )}
        <ErrorList userErrors={errors} error={error} />
      </div>
      <div className="appointment-status">
        <AppointmentBadge status={appointment.status} />
      </div>
      <div className="appointment-actions">
        {booked && (
          <>
            <button
              type="button"
              className="btn btn-primary"
              disabled={busy}
              onClick={() => void doCheckIn()}
            >
              Check in
            </button>
            <button type="button" className="btn" disabled={busy} onClick={() => void doNoShow()}>
              No-show
            </button>
          </>
        )}
        {(booked || attended) && (
          <button
            type="button"
            className="btn btn-ghost btn-danger"
            disabled={busy}
            onClick={() => void doCancel()}
          >
            Cancel
          </button>
        )}
      </div>
    </li>
  );
}
