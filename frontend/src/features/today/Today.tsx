import { useMemo } from "react";
import { useQuery } from "urql";
import { AppointmentsDocument } from "../../gql/graphql";
import { localDayBounds } from "../../lib/format";
import { useLocale } from "../../lib/session";
import { PageHeader } from "../../ui/Page";
import { ErrorList } from "../../ui/UserErrors";
import { AppointmentList } from "../appointments/AppointmentList";
import { useDebounced, useOnResume, usePackEvents } from "../live/LiveContext";

const LONG_DATE = (timezone: string) =>
  new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long", timeZone: timezone });

/** Today's appointments in the business timezone, with Check in / No-show / Cancel. */
export function Today() {
  const { timezone } = useLocale();
  const [from, to] = useMemo(() => localDayBounds(timezone), [timezone]);
  const [result, reexecute] = useQuery({
    query: AppointmentsDocument,
    variables: { from: from.toISOString(), to: to.toISOString() },
  });
  const refresh = useDebounced(() => reexecute({ requestPolicy: "network-only" }), 400);
  // A colleague's check-in or cancellation shows here too.
  usePackEvents((event) => {
    if (event.type === "SESSION_REDEEMED" || event.type === "REDEMPTION_REVERSED") refresh();
  });
  useOnResume(() => refresh());

  const appointments = useMemo(
    () =>
      (result.data?.appointments.edges ?? [])
        .map((edge) => edge.node)
        .sort((a, b) => a.startsAt.localeCompare(b.startsAt)),
    [result.data],
  );
  const waiting = appointments.filter((a) => a.status === "BOOKED").length;

  return (
    <div className="today">
      <PageHeader
        title="Today"
        subtitle={
          <>
            {LONG_DATE(timezone).format(new Date())}
            {result.data && ` · ${appointments.length} appointments, ${waiting} still to check in`}
          </>
        }
      />
      <ErrorList error={result.error} />
      {result.fetching && !result.data ? (
        <p className="loading">Loading appointments…</p>
      ) : (
        <AppointmentList appointments={appointments} onChanged={refresh} emptyText="No appointments today." />
      )}
    </div>
  );
}
