import { useMemo } from "react";
import { useQuery } from "urql";
import { AppointmentsDocument } from "../../gql/graphql";
import { localDayBounds } from "../../lib/format";
import { useLocale } from "../../lib/session";
import { ErrorList } from "../../ui/UserErrors";
import { AppointmentList } from "../appointments/AppointmentList";

const YEAR = 365 * 86_400_000;

/** The client's appointments: today and upcoming first, then the past year. */
export function ClientAppointments({ clientId }: { clientId: string }) {
  const { timezone } = useLocale();
  const [todayStart] = useMemo(() => localDayBounds(timezone), [timezone]);
  const variables = useMemo(
    () => ({
      clientId,
      from: new Date(todayStart.getTime() - YEAR).toISOString(),
      to: new Date(todayStart.getTime() + YEAR).toISOString(),
    }),
    [clientId, todayStart],
  );
  const [result, reexecute] = useQuery({ query: AppointmentsDocument, variables });
  const refresh = () => reexecute({ requestPolicy: "network-only" });
  const all = result.data?.appointments.edges.map((edge) => edge.node) ?? [];
  const cut = todayStart.toISOString();
  const upcoming = all.filter((a) => a.startsAt >= cut).sort((a, b) => a.startsAt.localeCompare(b.startsAt));
  const past = all.filter((a) => a.startsAt < cut).sort((a, b) => b.startsAt.localeCompare(a.startsAt));

  if (result.fetching && !result.data) return <p className="loading">Loading appointments…</p>;
  return (
    <div className="client-appointments">
      <ErrorList error={result.error} />
      <h2 className="section-title">Today and upcoming</h2>
      <AppointmentList
        appointments={upcoming}
        showDate
        showClient={false}
        onChanged={refresh}
        emptyText="No upcoming appointments."
      />
      <h2 className="section-title">Past</h2>
      <AppointmentList
        appointments={past}
        showDate
        showClient={false}
        onChanged={refresh}
        emptyText="No past appointments."
      />
    </div>
  );
}
