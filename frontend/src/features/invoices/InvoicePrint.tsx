import { useQuery } from "urql";
import { InvoiceDocumentDocument, type InvoiceDocumentQuery } from "../../gql/graphql";
import { formatDateTime, formatDay, formatMoney } from "../../lib/format";
import { Link } from "../../lib/router";
import { useViewer } from "../../lib/session";
import { ErrorList } from "../../ui/UserErrors";
import { paymentLabel } from "../clients/ClientInvoices";

type Invoice = NonNullable<InvoiceDocumentQuery["invoice"]>;
type Line = Invoice["lines"][number];

const STATUS: Record<Invoice["status"], string> = {
  ISSUED: "Issued",
  PARTIALLY_PAID: "Partly paid",
  PAID: "Paid",
  VOID: "Void",
};

/** What a line says under its description: the pack and session it used, what a money pack paid. */
export function lineDetail(line: Line, currency: string): string {
  const parts: string[] = [];
  if (line.kind === "PACK_SALE" && line.pack) {
    parts.push(line.description === line.pack.name ? "Prepaid pack" : `Sale of ${line.pack.name}`);
  }
  if (line.kind === "SERVICE" && line.pack) {
    parts.push(
      line.sessionNumber != null ? `${line.pack.name}, session ${line.sessionNumber}` : line.pack.name,
    );
    if (line.uncoveredAmount > 0) {
      parts.push(`${formatMoney(line.units, currency)} paid from the pack`);
    }
  }
  if (line.isVoid) parts.push(`Void: ${line.voidReason}`);
  else if (line.voidedAmount > 0) {
    parts.push(
      `${formatMoney(line.voidedAmount, currency)} voided${line.voidReason ? `: ${line.voidReason}` : ""}`,
    );
  }
  return parts.join(" · ");
}

/** The invoice as a document to print or save as PDF: the business's name, the client, every line
 * (void ones struck through with their reason), the totals and payments, in the invoice's currency.
 * The app's header and the buttons are left out of the printed page (print.css rules). */
export function InvoicePrint({ id }: { id: string }) {
  const viewer = useViewer();
  const timezone = viewer.business.timezone;
  const [result] = useQuery({ query: InvoiceDocumentDocument, variables: { id } });
  const invoice = result.data?.invoice;
  if (result.fetching && !result.data) return <p className="loading">Loading invoice…</p>;
  if (!invoice) {
    return (
      <div className="invoice-document">
        <ErrorList error={result.error} />
        <p className="empty">This invoice does not exist, or belongs to another business.</p>
      </div>
    );
  }
  const currency = invoice.currency;
  const money = (minor: number) => formatMoney(minor, currency);
  return (
    <div className="invoice-print">
      <div className="print-actions no-print">
        <Link to={`/clients/${invoice.client.id}`}>← {invoice.client.name}</Link>
        <button type="button" className="btn" onClick={() => window.print()}>
          Print
        </button>
      </div>
      <article className="invoice-document" aria-label={`Invoice ${invoice.number}`}>
        <header className="document-header">
          <div>
            <p className="document-business">{viewer.business.name}</p>
            <h1>Invoice {invoice.number}</h1>
          </div>
          <dl className="document-facts">
            <dt>Date</dt>
            <dd>{formatDay(invoice.issuedOn)}</dd>
            <dt>Status</dt>
            <dd data-testid="document-status">{STATUS[invoice.status]}</dd>
            <dt>Currency</dt>
            <dd>{currency}</dd>
          </dl>
        </header>
        <section className="document-client" aria-label="Bill to">
          <h2>Bill to</h2>
          <p>{invoice.client.name}</p>
          {invoice.client.email && <p>{invoice.client.email}</p>}
          {invoice.client.phone && <p>{invoice.client.phone}</p>}
        </section>
        {invoice.status === "VOID" && <p className="void-note">Voided: {invoice.voidReason}</p>}
        <table className="document-lines">
          <thead>
            <tr>
              <th scope="col">Description</th>
              <th scope="col" className="num">
                Qty
              </th>
              <th scope="col" className="num">
                Amount
              </th>
            </tr>
          </thead>
          <tbody>
            {invoice.lines.map((line) => {
              const detail = lineDetail(line, currency);
              return (
                <tr key={line.id} className={line.isVoid ? "line-void" : undefined}>
                  <td>
                    <span className="line-item">{line.description || line.kind}</span>
                    {detail && <span className="document-detail">{detail}</span>}
                  </td>
                  <td className="num">{line.quantity}</td>
                  <td className="num">
                    {line.isVoid ? <s>{money(line.amount)}</s> : money(line.chargedAmount)}
                  </td>
                </tr>
              );
            })}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row" colSpan={2}>
                Total
              </th>
              <td className="num" data-testid="document-total">
                {money(invoice.total)}
              </td>
            </tr>
            <tr>
              <th scope="row" colSpan={2}>
                Paid
              </th>
              <td className="num">{money(invoice.amountPaid)}</td>
            </tr>
            <tr className="document-due">
              <th scope="row" colSpan={2}>
                Balance due
              </th>
              <td className="num" data-testid="document-due">
                {money(invoice.balanceDue)}
              </td>
            </tr>
          </tfoot>
        </table>
        {invoice.payments.length > 0 && (
          <section className="document-payments" aria-label="Payments">
            <h2>Payments</h2>
            <ul>
              {invoice.payments.map((payment) => (
                <li key={payment.id}>
                  <span>
                    {paymentLabel(payment)} · {formatDateTime(payment.receivedAt, timezone)}
                    {payment.reason ? ` · ${payment.reason}` : ""}
                  </span>
                  <span className="num">{money(payment.amount)}</span>
                </li>
              ))}
            </ul>
          </section>
        )}
      </article>
    </div>
  );
}
