import { useEffect, useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { SellPackDocument } from "../../gql/graphql";
import { endOfLocalDayIso, formatMoney, inputToMinor } from "../../lib/format";
import { useLocale } from "../../lib/session";
import { ErrorList, type UserErrorLike } from "../../ui/UserErrors";
import { usePackEvents } from "../live/LiveContext";
import { LivePackCard } from "../packs/PackCard";
import { usePackStore } from "../packs/packStoreContext";
import type { ProfileData } from "./ClientProfile";

/** The client's packs as live cards (newest first) and the "Sell a pack" form. */
export function ClientPacks({ data, onChanged }: { data: ProfileData; onChanged: () => void }) {
  const client = data.client!;
  const [ids, setIds] = useState(() => client.packs.map((p) => p.id));
  useEffect(() => setIds(client.packs.map((p) => p.id)), [client.packs]);
  const [selling, setSelling] = useState(false);

  // A pack sold to this client anywhere (another desk, an integration) appears here at once.
  usePackEvents((event) => {
    if (!event.pack || event.pack.client.id !== client.id) return;
    const packId = event.pack.id;
    if (event.type === "PACK_DELETED") setIds((current) => current.filter((x) => x !== packId));
    else setIds((current) => (current.includes(packId) ? current : [packId, ...current]));
  });

  const count = ids.length;
  return (
    <div className="client-packs">
      <div className="section-bar">
        <p className="muted">
          {count === 0 ? "No packs yet." : `${count} ${count === 1 ? "pack" : "packs"}, active and past.`}
        </p>
        {!selling && (
          <button type="button" className="btn btn-primary" onClick={() => setSelling(true)}>
            Sell a pack
          </button>
        )}
      </div>
      {selling && (
        <SellPackForm
          data={data}
          onClose={() => setSelling(false)}
          onSold={(packId) => {
            setIds((current) => (current.includes(packId) ? current : [packId, ...current]));
            setSelling(false);
            onChanged();
          }}
        />
      )}
      <div className="pack-grid">
        {ids.map((id) => (
          <LivePackCard key={id} id={id} showClient={false} />
        ))}
      </div>
    </div>
  );
}

function SellPackForm({
  data,
  onClose,
  onSold,
}: {
  data: ProfileData;
  onClose: () => void;
  onSold: (packId: string) => void;
}) {
  const { currency, timezone } = useLocale();
  const store = usePackStore();
  const templates = data.packTemplates.filter((t) => !t.archived);
  const [templateId, setTemplateId] = useState(templates[0]?.id ?? "");
  const [discount, setDiscount] = useState("");
  const [expiry, setExpiry] = useState("");
  const [useFirst, setUseFirst] = useState(false);
  const [errors, setErrors] = useState<readonly UserErrorLike[]>([]);
  const [state, execute] = useMutation(SellPackDocument);
  const template = templates.find((t) => t.id === templateId);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const discountMinor = discount.trim() ? inputToMinor(discount, currency) : 0;
    if (discountMinor === null) {
      setErrors([{ code: "INVALID", message: "The discount must be an amount (or empty)." }]);
      return;
    }
    const result = await execute({
      input: {
        clientId: data.client!.id,
        templateId,
        discount: discountMinor,
        expiresAt: expiry ? endOfLocalDayIso(expiry, timezone) : undefined,
        useFirstSession: useFirst,
      },
    });
    const payload = result.data?.sellPack;
    setErrors(payload?.userErrors ?? []);
    if (payload?.pack) {
      store.merge(payload.pack, { highlight: true });
      onSold(payload.pack.id);
    }
  }

  if (templates.length === 0) {
    return <div className="alert alert-info">No pack templates yet: a manager creates them first.</div>;
  }
  return (
    <form className="panel sell-form" onSubmit={submit} aria-labelledby="sell-heading">
      <h2 id="sell-heading">Sell a pack to {data.client!.name}</h2>
      <div className="form-row">
        <label className="field field-grow">
          Pack
          <select name="template" value={templateId} onChange={(e) => setTemplateId(e.target.value)}>
            {templates.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name} · {formatMoney(t.price, currency)}
              </option>
            ))}
          </select>
        </label>
        <label className="field field-narrow">
          Discount
          <input
            type="text"
            inputMode="decimal"
            name="discount"
            value={discount}
            placeholder="0.00"
            onChange={(e) => setDiscount(e.target.value)}
          />
        </label>
        <label className="field">
          <span>
            Expiry <span className="hint">{template ? validityText(template) : ""}</span>
          </span>
          <input type="date" name="expiresAt" value={expiry} onChange={(e) => setExpiry(e.target.value)} />
        </label>
      </div>
      <label className="check">
        <input type="checkbox" checked={useFirst} onChange={(e) => setUseFirst(e.target.checked)} />
        Use the first session now
      </label>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={state.fetching || !templateId}>
          Sell pack
        </button>
        <button type="button" className="btn btn-ghost" onClick={onClose}>
          Close
        </button>
      </div>
      <ErrorList userErrors={errors} error={state.error} />
    </form>
  );
}

function validityText(template: { validityDays: number | null; validityMonths: number | null }): string {
  if (template.validityMonths) return `(default: ${template.validityMonths} months)`;
  if (template.validityDays) return `(default: ${template.validityDays} days)`;
  return "(default: never expires)";
}
