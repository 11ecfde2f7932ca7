import { useEffect, useState, type KeyboardEvent } from "react";
import { useMutation, useQuery } from "urql";
import {
  ClientProfileDocument,
  SetClientBillingPreferenceDocument,
  type ClientProfileQuery,
} from "../../gql/graphql";
import { Link, useRouter } from "../../lib/router";
import { ErrorList, type UserErrorLike } from "../../ui/UserErrors";
import { usePackStore } from "../packs/packStoreContext";
import { ClientAppointments } from "./ClientAppointments";
import { ClientCredit } from "./ClientCredit";
import { ClientInvoices } from "./ClientInvoices";
import { ClientPacks } from "./ClientPacks";

type Tab = "packs" | "appointments" | "invoices";
const TABS: { id: Tab; label: string }[] = [
  { id: "packs", label: "Packs" },
  { id: "appointments", label: "Appointments" },
  { id: "invoices", label: "Invoices" },
];

export type ProfileData = ClientProfileQuery;

/** A client's details and billing preference, with tabs Packs, Appointments and Invoices. */
export function ClientProfile({ id }: { id: string }) {
  const { search, path, navigate } = useRouter();
  const tabParam = new URLSearchParams(search).get("tab");
  const tab: Tab = TABS.some((t) => t.id === tabParam) ? (tabParam as Tab) : "packs";
  const [result, reexecute] = useQuery({ query: ClientProfileDocument, variables: { id } });
  const store = usePackStore();
  const client = result.data?.client;
  useEffect(() => {
    if (client) store.mergeAll(client.packs);
  }, [client, store]);
  const refresh = () => reexecute({ requestPolicy: "network-only" });

  if (result.fetching && !result.data) return <p className="loading">Loading client…</p>;
  if (!client || !result.data) {
    return (
      <div>
        <ErrorList error={result.error} />
        {!result.error && <div className="empty">This client does not exist.</div>}
      </div>
    );
  }

  const selectTab = (next: Tab) =>
    navigate(`${path}${next === "packs" ? "" : `?tab=${next}`}`, { replace: true });
  const onTabKey = (event: KeyboardEvent<HTMLButtonElement>) => {
    const index = TABS.findIndex((t) => t.id === tab);
    if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
      const next = TABS[(index + (event.key === "ArrowRight" ? 1 : TABS.length - 1)) % TABS.length];
      selectTab(next.id);
      document.getElementById(`tab-${next.id}`)?.focus();
    }
  };

  return (
    <div className="profile">
      <nav className="breadcrumbs" aria-label="Breadcrumb">
        <Link to="/clients">Clients</Link>
        <span aria-hidden="true"> / </span>
        <span aria-current="page">{client.name}</span>
      </nav>
      <div className="profile-header panel">
        <div className="profile-identity">
          <h1>{client.name}</h1>
          <dl className="profile-details">
            <div>
              <dt>Email</dt>
              <dd>{client.email || "—"}</dd>
            </div>
            <div>
              <dt>Phone</dt>
              <dd>{client.phone || "—"}</dd>
            </div>
            {client.notes && (
              <div className="profile-notes">
                <dt>Notes</dt>
                <dd>{client.notes}</dd>
              </div>
            )}
          </dl>
        </div>
        <BillingPreference data={result.data} onSaved={refresh} />
      </div>
      <ClientCredit clientId={client.id} credit={client} onChanged={refresh} />

      <div className="tabs" role="tablist" aria-label="Client sections">
        {TABS.map((t) => (
          <button
            key={t.id}
            id={`tab-${t.id}`}
            type="button"
            role="tab"
            aria-selected={tab === t.id}
            aria-controls={`panel-${t.id}`}
            tabIndex={tab === t.id ? 0 : -1}
            className="tab"
            onClick={() => selectTab(t.id)}
            onKeyDown={onTabKey}
          >
            {t.label}
            {t.id === "packs" && <span className="tab-count">{client.packs.length}</span>}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="tab-panel">
        {tab === "packs" && <ClientPacks data={result.data} onChanged={refresh} />}
        {tab === "appointments" && <ClientAppointments clientId={client.id} />}
        {tab === "invoices" && (
          <ClientInvoices
            clientId={client.id}
            packs={client.packs}
            services={result.data.services}
            creditBalance={client.creditBalance}
            onCreditChanged={refresh}
          />
        )}
      </div>
    </div>
  );
}

function BillingPreference({ data, onSaved }: { data: ProfileData; onSaved: () => void }) {
  const client = data.client!;
  const current = client.preferredPack
    ? `pack:${client.preferredPack.id}`
    : client.preferredService
      ? `service:${client.preferredService.id}`
      : "";
  const [value, setValue] = useState(current);
  useEffect(() => setValue(current), [current]);
  const [errors, setErrors] = useState<readonly UserErrorLike[]>([]);
  const [saved, setSaved] = useState(false);
  const [state, execute] = useMutation(SetClientBillingPreferenceDocument);
  const openPacks = client.packs.filter((p) => p.status === "ACTIVE");

  async function save(next: string) {
    setValue(next);
    setSaved(false);
    const [kind, id] = next.split(":");
    const result = await execute({
      input: {
        clientId: client.id,
        packId: kind === "pack" ? id : null,
        serviceId: kind === "service" ? id : null,
      },
    });
    const payload = result.data?.setClientBillingPreference;
    setErrors(payload?.userErrors ?? []);
    if (payload && payload.userErrors.length === 0) {
      setSaved(true);
      onSaved();
    }
  }

  return (
    <div className="billing">
      <label className="field">
        Billing preference
        <span className="hint">Added automatically to every new appointment.</span>
        <select value={value} disabled={state.fetching} onChange={(e) => void save(e.target.value)}>
          <option value="">None: choose per visit</option>
          {openPacks.length > 0 && (
            <optgroup label="Use this pack">
              {openPacks.map((p) => (
                <option key={p.id} value={`pack:${p.id}`}>
                  {p.name}
                </option>
              ))}
            </optgroup>
          )}
          <optgroup label="Charge this service">
            {data.services
              .filter((s) => s.active)
              .map((s) => (
                <option key={s.id} value={`service:${s.id}`}>
                  {s.name}
                </option>
              ))}
          </optgroup>
        </select>
      </label>
      {saved && (
        <span className="saved" role="status">
          Saved
        </span>
      )}
      <ErrorList userErrors={errors} error={state.error} />
    </div>
  );
}
