import { useState } from "react";
import { useMutation, useQuery } from "urql";
import {
  AllocateInvoiceLineDocument,
  ClientInvoicesDocument,
  UnallocateInvoiceLineDocument,
  type ClientInvoicesQuery,
} from "../../gql/graphql";
import { formatDay, formatMoney } from "../../lib/format";
import { Link } from "../../lib/router";
import { useLocale } from "../../lib/session";
import { ErrorList, type UserErrorLike } from "../../ui/UserErrors";
import type { PackSnapshot } from "../packs/packStore";
import { usePackStore } from "../packs/packStoreContext";

type Line = ClientInvoicesQuery["invoices"]["edges"][number]["node"]["lines"][number];

/** Invoices with their lines; each service line shows its pack and session number. */
export function ClientInvoices({ clientId, packs }: { clientId: string; packs: readonly PackSnapshot[] }) {
  const { currency } = useLocale();
  const [result, reexecute] = useQuery({ query: ClientInvoicesDocument, variables: { clientId } });
  const refresh = () => reexecute({ requestPolicy: "network-only" });
  const invoices = result.data?.invoices.edges.map((edge) => edge.node) ?? [];
  if (result.fetching && !result.data) return <p className="loading">Loading invoices…</p>;
  return (
    <div className="invoices">
      <ErrorList error={result.error} />
      {invoices.length === 0 && <div className="empty">No invoices yet.</div>}
      {invoices.map((invoice) => (
        <section key={invoice.id} className="panel invoice" aria-label={`Invoice ${invoice.number}`}>
          <header className="invoice-header">
            <h2>Invoice {invoice.number}</h2>
            <span className="muted">{formatDay(invoice.issuedOn)}</span>
            <span className="invoice-total">
              {invoice.balanceDue > 0 ? (
                <span className="invoice-due">{formatMoney(invoice.balanceDue, currency)} due · </span>
              ) : invoice.total > 0 ? (
                <span className="invoice-paid">Paid · </span>
              ) : null}
              {formatMoney(invoice.total, currency)}
            </span>
          </header>
          <table className="lines">
            <colgroup>
              <col className="col-item" />
              <col />
              <col className="col-amount" />
            </colgroup>
            <thead>
              <tr>
                <th scope="col">Item</th>
                <th scope="col">Pack</th>
                <th scope="col" className="num">
                  Amount
                </th>
              </tr>
            </thead>
            <tbody>
              {invoice.lines.map((line) => (
                <InvoiceLineRow key={line.id} line={line} packs={packs} onChanged={refresh} />
              ))}
            </tbody>
          </table>
        </section>
      ))}
    </div>
  );
}

function InvoiceLineRow({
  line,
  packs,
  onChanged,
}: {
  line: Line;
  packs: readonly PackSnapshot[];
  onChanged: () => void;
}) {
  const { currency } = useLocale();
  const store = usePackStore();
  const [target, setTarget] = useState("");
  const [errors, setErrors] = useState<readonly UserErrorLike[]>([]);
  const [allocation, allocate] = useMutation(AllocateInvoiceLineDocument);
  const [unallocation, unallocate] = useMutation(UnallocateInvoiceLineDocument);
  const eligible = packs.filter(
    (p) =>
      p.status === "ACTIVE" &&
      (!line.service || p.items.some((i) => i.services.some((s) => s.id === line.service!.id))),
  );

  async function doAllocate() {
    if (!target) return;
    const result = await allocate({ input: { lineId: line.id, packId: target } });
    const payload = result.data?.allocateInvoiceLine;
    setErrors(payload?.userErrors ?? []);
    if (payload?.pack) store.merge(payload.pack, { highlight: true });
    if (payload && payload.userErrors.length === 0) onChanged();
  }

  async function doUnallocate() {
    const result = await unallocate({ input: { lineId: line.id } });
    const payload = result.data?.unallocateInvoiceLine;
    setErrors(payload?.userErrors ?? []);
    if (payload?.pack) store.merge(payload.pack, { highlight: true });
    if (payload && payload.userErrors.length === 0) onChanged();
  }

  const description = line.description || line.service?.name || line.kind;
  return (
    <tr>
      <td>
        {description}
        {line.quantity > 1 ? ` × ${line.quantity}` : ""}
      </td>
      <td>
        {line.kind === "PACK_SALE" && line.pack && (
          <span className="muted">
            Sale of <Link to={`/packs/${line.pack.id}`}>{line.pack.name}</Link>
          </span>
        )}
        {line.kind === "SERVICE" && line.pack && (
          <span className="allocation">
            <Link to={`/packs/${line.pack.id}`}>{line.pack.name}</Link>
            {line.sessionNumber != null && <span className="muted"> · session {line.sessionNumber}</span>}
            <button
              type="button"
              className="btn btn-small btn-ghost btn-danger unallocate"
              disabled={unallocation.fetching}
              onClick={() => void doUnallocate()}
              aria-label={`Remove ${line.pack.name} from this line`}
              title="Remove the pack from this line: the session is given back"
            >
              ✕ Unallocate
            </button>
          </span>
        )}
        {line.kind === "SERVICE" && !line.pack && (
          <span className="allocate">
            {eligible.length === 0 ? (
              <span className="muted">No open pack covers this</span>
            ) : (
              <>
                <select
                  aria-label="Pack to allocate"
                  value={target}
                  onChange={(e) => setTarget(e.target.value)}
                >
                  <option value="">Choose a pack…</option>
                  {eligible.map((p) => (
                    <option key={p.id} value={p.id}>
                      {p.name}
                    </option>
                  ))}
                </select>
                <button
                  type="button"
                  className="btn btn-small"
                  disabled={!target || allocation.fetching}
                  onClick={() => void doAllocate()}
                >
                  Allocate
                </button>
              </>
            )}
          </span>
        )}
        <ErrorList userErrors={errors} error={allocation.error ?? unallocation.error} />
      </td>
      <td className="num">{formatMoney(line.amount, currency)}</td>
    </tr>
  );
}
