import { useState, type FormEvent, type ReactNode } from "react";
import { useMutation, useQuery, type CombinedError } from "urql";
import {
  AllocateInvoiceLineDocument,
  ApplyClientCreditDocument,
  ChangeInvoiceLineServiceDocument,
  ClientInvoicesDocument,
  UnallocateInvoiceLineDocument,
  VoidInvoiceDocument,
  VoidInvoiceLineDocument,
  type ClientInvoicesQuery,
  type InvoiceStatus,
} from "../../gql/graphql";
import { formatDateTime, formatDay, formatMoney } from "../../lib/format";
import { useIdempotencyKey } from "../../lib/idempotency";
import { Link } from "../../lib/router";
import { useCanManage, useLocale } from "../../lib/session";
import { ErrorList, type UserErrorLike } from "../../ui/UserErrors";
import { methodLabel } from "../packs/PaymentMethodSelect";
import type { PackSnapshot } from "../packs/packStore";
import { usePackStore } from "../packs/packStoreContext";

type Invoice = ClientInvoicesQuery["invoices"]["edges"][number]["node"];
type Line = Invoice["lines"][number];
export interface ServiceChoice {
  id: string;
  name: string;
  active: boolean;
}

const STATUS_LABELS: Record<InvoiceStatus, { label: string; className: string }> = {
  ISSUED: { label: "Issued", className: "payment-unpaid" },
  PARTIALLY_PAID: { label: "Partly paid", className: "payment-partial" },
  PAID: { label: "Paid", className: "payment-paid" },
  VOID: { label: "Void", className: "status-cancelled" },
};

/** Invoices with their status, lines and payments; each service line shows its pack and session
 * number; staff pay what is due from the client's credit; managers void lines and invoices with a
 * reason (what was paid beyond the new total moves to the client's credit). */
export function ClientInvoices({
  clientId,
  packs,
  services,
  creditBalance,
  onCreditChanged,
}: {
  clientId: string;
  packs: readonly PackSnapshot[];
  services: readonly ServiceChoice[];
  creditBalance: number;
  onCreditChanged: () => void;
}) {
  const [result, reexecute] = useQuery({ query: ClientInvoicesDocument, variables: { clientId } });
  const refresh = () => {
    reexecute({ requestPolicy: "network-only" });
    onCreditChanged();
  };
  const invoices = result.data?.invoices.edges.map((edge) => edge.node) ?? [];
  if (result.fetching && !result.data) return <p className="loading">Loading invoices…</p>;
  return (
    <div className="invoices">
      <ErrorList error={result.error} />
      {invoices.length === 0 && <div className="empty">No invoices yet.</div>}
      {invoices.map((invoice) => (
        <InvoicePanel
          key={invoice.id}
          invoice={invoice}
          packs={packs}
          services={services}
          creditBalance={creditBalance}
          onChanged={refresh}
        />
      ))}
    </div>
  );
}

/** One invoice: status, lines (void ones struck through, with their reason), payments, and for
 * managers the void actions. */
function InvoicePanel({
  invoice,
  packs,
  services,
  creditBalance,
  onChanged,
}: {
  invoice: Invoice;
  packs: readonly PackSnapshot[];
  services: readonly ServiceChoice[];
  creditBalance: number;
  onChanged: () => void;
}) {
  const { currency, timezone } = useLocale();
  const canManage = useCanManage();
  const status = STATUS_LABELS[invoice.status];
  // The server would refuse the rest: a pack's sale follows its pack (delete or cancel it).
  const sellsOpenPack = invoice.lines.some((line) => line.kind === "PACK_SALE" && line.chargedAmount > 0);
  const voidable = canManage && invoice.status !== "VOID" && !sellsOpenPack;
  const payable = invoice.status !== "VOID" && invoice.balanceDue > 0 && creditBalance > 0;
  return (
    <section
      className={`panel invoice${invoice.status === "VOID" ? " invoice-void" : ""}`}
      aria-label={`Invoice ${invoice.number}`}
    >
      <header className="invoice-header">
        <h2>Invoice {invoice.number}</h2>
        <span className="muted">{formatDay(invoice.issuedOn)}</span>
        <span className={`badge ${status.className}`}>{status.label}</span>
        <Link
          to={`/invoices/${invoice.id}/print`}
          className="btn btn-small btn-ghost print-link"
          aria-label={`Print invoice ${invoice.number}`}
        >
          Print
        </Link>
        <span className="invoice-total">
          {invoice.balanceDue > 0 && (
            <span className="invoice-due">{formatMoney(invoice.balanceDue, currency)} due · </span>
          )}
          {formatMoney(invoice.total, currency)}
        </span>
      </header>
      {invoice.status === "VOID" && <p className="void-note">Voided: {invoice.voidReason}</p>}
      <table className="lines">
        <colgroup>
          <col className="col-item" />
          <col />
          <col className="col-amount" />
          {canManage && <col className="col-actions" />}
        </colgroup>
        <thead>
          <tr>
            <th scope="col">Item</th>
            <th scope="col">Pack</th>
            <th scope="col" className="num">
              Amount
            </th>
            {canManage && (
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {invoice.lines.map((line) => (
            <InvoiceLineRow
              key={line.id}
              line={line}
              packs={packs}
              services={services}
              open={invoice.status !== "VOID"}
              canManage={canManage && invoice.status !== "VOID"}
              onChanged={onChanged}
            />
          ))}
        </tbody>
      </table>
      {invoice.payments.length > 0 && (
        <ul className="invoice-payments" aria-label="Payments">
          {invoice.payments.map((payment) => (
            <li key={payment.id}>
              <span>
                {paymentLabel(payment)} · {formatDateTime(payment.receivedAt, timezone)}
                {payment.isRefund && payment.reason ? ` · ${payment.reason}` : ""}
              </span>
              <span className="num">{formatMoney(payment.amount, currency)}</span>
            </li>
          ))}
        </ul>
      )}
      {(payable || voidable) && (
        <div className="invoice-actions">
          {payable && (
            <ApplyCreditButton invoice={invoice} creditBalance={creditBalance} onChanged={onChanged} />
          )}
          {voidable && <VoidInvoiceForm invoice={invoice} onChanged={onChanged} />}
        </div>
      )}
    </section>
  );
}

/** "Paid card", "Refunded cash", "Paid from client credit": a payment row in the desk's words. */
export function paymentLabel(
  payment: Pick<Invoice["payments"][number], "amount" | "method" | "isRefund">,
): string {
  if (payment.method === "CLIENT_CREDIT") {
    return payment.amount < 0 ? "Moved to client credit" : "Paid from client credit";
  }
  return `${payment.isRefund ? "Refunded" : "Paid"} ${methodLabel(payment.method).toLowerCase()}`;
}

/** Pays what the invoice owes from the client's credit, as far as it goes (any staff). */
function ApplyCreditButton({
  invoice,
  creditBalance,
  onChanged,
}: {
  invoice: Invoice;
  creditBalance: number;
  onChanged: () => void;
}) {
  const { currency } = useLocale();
  const store = usePackStore();
  const [state, execute] = useMutation(ApplyClientCreditDocument);
  const [errors, setErrors] = useState<readonly UserErrorLike[]>([]);
  const idempotency = useIdempotencyKey();
  const amount = Math.min(creditBalance, invoice.balanceDue);

  async function apply() {
    const idempotencyKey = idempotency.keyFor(invoice.id, amount);
    const result = await execute({ input: { invoiceId: invoice.id, amount, idempotencyKey } });
    const payload = result.data?.applyClientCredit;
    setErrors(payload?.userErrors ?? []);
    if (payload) idempotency.answered();
    for (const pack of payload?.packs ?? []) store.merge(pack, { highlight: true });
    if (payload && payload.userErrors.length === 0) onChanged();
  }

  return (
    <>
      <button type="button" className="btn btn-small" disabled={state.fetching} onClick={() => void apply()}>
        Pay {formatMoney(amount, currency)} from credit
      </button>
      <ErrorList userErrors={errors} error={state.error} />
    </>
  );
}

function VoidInvoiceForm({ invoice, onChanged }: { invoice: Invoice; onChanged: () => void }) {
  const { currency } = useLocale();
  const store = usePackStore();
  const [open, setOpen] = useState(false);
  const [state, execute] = useMutation(VoidInvoiceDocument);

  async function submit(reason: string) {
    const result = await execute({ input: { invoiceId: invoice.id, reason } });
    const payload = result.data?.voidInvoice;
    for (const pack of payload?.packs ?? []) store.merge(pack, { highlight: true });
    if (payload && payload.userErrors.length === 0) onChanged();
    return payload?.userErrors ?? [];
  }

  if (!open) {
    return (
      <button type="button" className="btn btn-small btn-ghost btn-danger" onClick={() => setOpen(true)}>
        Void invoice…
      </button>
    );
  }
  return (
    <VoidReasonForm
      label={`Void invoice ${invoice.number}`}
      submitLabel="Void invoice"
      missingReason="Enter why the invoice is voided."
      state={state}
      onSubmit={submit}
      onCancel={() => setOpen(false)}
    >
      Every line still charged is voided and its sessions given back
      {invoice.amountPaid > 0
        ? `; the ${formatMoney(invoice.amountPaid, currency)} paid moves to the client's credit`
        : ""}
      . Nothing is deleted.
    </VoidReasonForm>
  );
}

/** A manager's void: what it does, a required reason, and the server's answer. */
function VoidReasonForm({
  label,
  submitLabel,
  missingReason,
  state,
  onSubmit,
  onCancel,
  children,
}: {
  label: string;
  submitLabel: string;
  missingReason: string;
  state: { fetching: boolean; error?: CombinedError };
  onSubmit: (reason: string) => Promise<readonly UserErrorLike[]>;
  onCancel: () => void;
  children: ReactNode;
}) {
  const [reason, setReason] = useState("");
  const [errors, setErrors] = useState<readonly UserErrorLike[]>([]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!reason.trim()) {
      setErrors([{ code: "INVALID", message: missingReason }]);
      return;
    }
    setErrors(await onSubmit(reason.trim()));
  }

  return (
    <form className="manage-block confirm-block" onSubmit={submit} aria-label={label}>
      <p className="muted">{children}</p>
      <div className="form-row">
        <label className="field field-grow">
          Reason
          <input type="text" name="voidReason" value={reason} onChange={(e) => setReason(e.target.value)} />
        </label>
        <button type="submit" className="btn btn-danger-solid" disabled={state.fetching}>
          {submitLabel}
        </button>
        <button
          type="button"
          className="btn btn-ghost"
          onClick={() => {
            setErrors([]);
            onCancel();
          }}
        >
          Keep
        </button>
      </div>
      <ErrorList userErrors={errors} error={state.error} />
    </form>
  );
}

function InvoiceLineRow({
  line,
  packs,
  services,
  open,
  canManage,
  onChanged,
}: {
  line: Line;
  packs: readonly PackSnapshot[];
  services: readonly ServiceChoice[];
  open: boolean;
  canManage: boolean;
  onChanged: () => void;
}) {
  const { currency } = useLocale();
  const store = usePackStore();
  const [target, setTarget] = useState("");
  const [voiding, setVoiding] = useState(false);
  const [changing, setChanging] = useState(false);
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
  const columns = canManage ? 4 : 3;
  const partlyVoided = !line.isVoid && line.voidedAmount > 0;
  return (
    <>
      <tr className={line.isVoid ? "line-void" : undefined}>
        <td>
          <span className="line-item">
            {description}
            {line.quantity > 1 ? ` × ${line.quantity}` : ""}
          </span>
          {line.kind === "SERVICE" && open && !line.isVoid && !changing && (
            <button
              type="button"
              className="btn btn-small btn-ghost change-service"
              onClick={() => setChanging(true)}
              aria-label={`Change the service of ${description}`}
              title="The wrong service was charged: change it, and the line is re-priced and deducted again"
            >
              Change…
            </button>
          )}
          {line.isVoid && <span className="void-note">Void: {line.voidReason}</span>}
        </td>
        <td>
          {line.kind === "PACK_SALE" && line.pack && (
            <span className="muted">
              Sale of <Link to={`/packs/${line.pack.id}`}>{line.pack.name}</Link>
              {partlyVoided && (
                <>
                  {" "}
                  · {formatMoney(line.voidedAmount, currency)} of {formatMoney(line.amount, currency)} voided
                  {line.voidReason ? `: ${line.voidReason}` : ""}
                </>
              )}
            </span>
          )}
          {line.kind === "SERVICE" && line.pack && (
            <span className="allocation">
              <Link to={`/packs/${line.pack.id}`}>{line.pack.name}</Link>
              {line.sessionNumber != null && <span className="muted"> · session {line.sessionNumber}</span>}
              {line.uncoveredAmount > 0 && (
                <span className="muted partial-cover">
                  {" "}
                  · paid {formatMoney(line.units, currency)} of it,{" "}
                  {formatMoney(line.uncoveredAmount, currency)} charged
                </span>
              )}
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
          {line.kind === "SERVICE" && !line.pack && !line.isVoid && (
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
        <td className="num">
          {line.isVoid ? (
            <s aria-label={`${formatMoney(line.amount, currency)}, voided`}>
              {formatMoney(line.amount, currency)}
            </s>
          ) : (
            formatMoney(line.chargedAmount, currency)
          )}
        </td>
        {canManage && (
          <td className="num">
            {!line.isVoid && line.kind !== "PACK_SALE" && !voiding && (
              <button
                type="button"
                className="btn btn-small btn-ghost btn-danger"
                onClick={() => setVoiding(true)}
                aria-label={`Void ${description}`}
              >
                Void…
              </button>
            )}
          </td>
        )}
      </tr>
      {changing && (
        <tr className="line-void-form">
          <td colSpan={columns}>
            <ChangeServiceForm
              line={line}
              description={description}
              services={services}
              onClose={() => setChanging(false)}
              onChanged={onChanged}
            />
          </td>
        </tr>
      )}
      {voiding && (
        <tr className="line-void-form">
          <td colSpan={columns}>
            <VoidLineForm
              line={line}
              description={description}
              onClose={() => setVoiding(false)}
              onChanged={onChanged}
            />
          </td>
        </tr>
      )}
    </>
  );
}

/** The visit was a different service: the line is re-priced at that service's price and deducted
 * from a pack that covers it (the one it had when that still fits), else charged in full. */
function ChangeServiceForm({
  line,
  description,
  services,
  onClose,
  onChanged,
}: {
  line: Line;
  description: string;
  services: readonly ServiceChoice[];
  onClose: () => void;
  onChanged: () => void;
}) {
  const store = usePackStore();
  const [serviceId, setServiceId] = useState("");
  const [errors, setErrors] = useState<readonly UserErrorLike[]>([]);
  const [state, execute] = useMutation(ChangeInvoiceLineServiceDocument);
  const idempotency = useIdempotencyKey();
  const choices = services.filter((s) => s.active && s.id !== line.service?.id);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!serviceId) {
      setErrors([
        { code: "INVALID_INPUT", field: ["serviceId"], message: "Choose the service that was given." },
      ]);
      return;
    }
    const idempotencyKey = idempotency.keyFor(line.id, serviceId);
    const result = await execute({ input: { lineId: line.id, serviceId, idempotencyKey } });
    const payload = result.data?.changeInvoiceLineService;
    setErrors(payload?.userErrors ?? []);
    if (payload) idempotency.answered();
    for (const pack of [payload?.releasedPack, payload?.pack]) {
      if (pack) store.merge(pack, { highlight: true });
    }
    if (payload && payload.userErrors.length === 0) {
      onClose();
      onChanged();
    }
  }

  return (
    <form
      className="manage-block confirm-block"
      onSubmit={(e) => void submit(e)}
      aria-label={`Change the service of ${description}`}
    >
      <p className="muted">
        The visit is charged once: at the new service&apos;s price, or deducted from a pack that covers it.
        {line.pack ? ` Its session on ${line.pack.name} is given back first.` : ""}
      </p>
      <div className="form-row">
        <label className="field field-grow">
          Service given
          <select value={serviceId} onChange={(e) => setServiceId(e.target.value)}>
            <option value="">Choose…</option>
            {choices.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="btn" disabled={state.fetching}>
          Change service
        </button>
        <button type="button" className="btn btn-ghost" onClick={onClose}>
          Keep
        </button>
      </div>
      <ErrorList userErrors={errors} error={state.error} />
    </form>
  );
}

function VoidLineForm({
  line,
  description,
  onClose,
  onChanged,
}: {
  line: Line;
  description: string;
  onClose: () => void;
  onChanged: () => void;
}) {
  const { currency } = useLocale();
  const store = usePackStore();
  const [state, execute] = useMutation(VoidInvoiceLineDocument);

  async function submit(reason: string) {
    const result = await execute({ input: { lineId: line.id, reason } });
    const payload = result.data?.voidInvoiceLine;
    if (payload?.pack) store.merge(payload.pack, { highlight: true });
    if (payload && payload.userErrors.length === 0) {
      onClose();
      onChanged();
    }
    return payload?.userErrors ?? [];
  }

  return (
    <VoidReasonForm
      label={`Void ${description}`}
      submitLabel="Void line"
      missingReason="Enter why the line is voided."
      state={state}
      onSubmit={submit}
      onCancel={onClose}
    >
      {description} stops charging {formatMoney(line.chargedAmount, currency)}
      {line.pack ? `; what it used goes back to ${line.pack.name}` : ""}. The line stays on the invoice,
      marked void; anything paid beyond the new total moves to the client&apos;s credit.
    </VoidReasonForm>
  );
}
