import type { Metric } from "../../gql/graphql";
import { Link } from "../../lib/router";
import {
  daysUntil,
  formatDate,
  formatMoney,
  relativeDays,
  remainingSummary,
  usedSummary,
  formatQuantity,
} from "../../lib/format";
import { useLocale } from "../../lib/session";
import { PaymentBadge, StatusBadge } from "../../ui/Badges";
import { ProgressBar } from "../../ui/ProgressBar";
import type { PackSnapshot } from "./packStore";
import { usePack, usePackChangedAt } from "./packStoreContext";

export function packTotals(pack: PackSnapshot): { used: number; allowance: number } {
  return pack.items.reduce(
    (sum, item) => ({ used: sum.used + item.used, allowance: sum.allowance + item.allowance }),
    { used: 0, allowance: 0 },
  );
}

/** A pack card that follows the live store: it changes in place when an event arrives. */
export function LivePackCard({
  id,
  fallback,
  note,
  showClient,
}: {
  id: string;
  fallback?: PackSnapshot;
  note?: string;
  showClient?: boolean;
}) {
  const pack = usePack(id, fallback);
  const changedAt = usePackChangedAt(id);
  if (!pack) return null;
  return <PackCard pack={pack} changedAt={changedAt} note={note} showClient={showClient} />;
}

interface PackCardProps {
  pack: PackSnapshot;
  /** Time of the last live change: the card flashes when it changes. */
  changedAt?: number;
  /** A line under the header, e.g. "No longer matches the filters". */
  note?: string;
  /** Show the client link (off on the client's own profile). */
  showClient?: boolean;
  /** Link the title to the detail page (off on the detail page itself). */
  linkTitle?: boolean;
}

/** Bookinda's pack card: name, client, badges, price, dates, usage and one bar per item. */
export function PackCard({ pack, changedAt = 0, note, showClient = true, linkTitle = true }: PackCardProps) {
  const { currency, timezone } = useLocale();
  const totals = packTotals(pack);
  const discounted = pack.discount > 0 && pack.price > pack.finalPrice;
  const open = pack.status === "ACTIVE";
  const titleId = `pack-${pack.id}-title`;
  return (
    <article
      className={`pack-card pack-${pack.status.toLowerCase()}`}
      aria-labelledby={titleId}
      data-testid="pack-card"
      data-pack-id={pack.id}
      data-version={pack.version}
    >
      {changedAt > 0 && <span key={changedAt} className="pack-flash" aria-hidden="true" />}
      <header className="pack-card-header">
        <div className="pack-card-title">
          <h3 id={titleId}>
            {linkTitle ? (
              <Link to={`/packs/${pack.id}`} className="pack-link">
                {pack.name}
              </Link>
            ) : (
              pack.name
            )}
          </h3>
          {showClient && (
            <Link to={`/clients/${pack.client.id}`} className="pack-client">
              {pack.client.name}
            </Link>
          )}
        </div>
        <div className="pack-badges">
          <StatusBadge status={pack.status} />
          <PaymentBadge status={pack.paymentStatus} />
        </div>
      </header>

      {note && <p className="pack-note-line">{note}</p>}

      <div className="pack-price">
        <span className="pack-final-price" data-testid="final-price">
          {formatMoney(pack.finalPrice, currency)}
        </span>
        {discounted && (
          <s className="pack-original-price" data-testid="original-price">
            <span className="visually-hidden">was </span>
            {formatMoney(pack.price, currency)}
          </s>
        )}
        {pack.balanceDue > 0 && pack.status !== "CANCELLED" && (
          <span className="pack-due">Due {formatMoney(pack.balanceDue, currency)}</span>
        )}
      </div>

      <dl className="pack-dates">
        <div>
          <dt>Purchased</dt>
          <dd>{formatDate(pack.purchasedAt, timezone)}</dd>
        </div>
        <div>
          <dt>Expires</dt>
          <dd>
            {pack.expiresAt ? <ExpiryText iso={pack.expiresAt} timezone={timezone} open={open} /> : "Never"}
          </dd>
        </div>
      </dl>

      <p className="pack-used" data-testid="used-summary">
        {usedSummary(totals.used, totals.allowance, pack.metric, currency)}
      </p>

      <ul className="pack-items">
        {pack.items.map((item) => {
          const services = item.services.map((s) => s.name).join(", ") || "Any service";
          const remainingText = remainingSummary(item.remaining, item.allowance, pack.metric, currency);
          return (
            <li key={item.id} className="pack-item" data-testid="pack-item">
              <div className="pack-item-head">
                <span className="pack-item-services">{services}</span>
                <span className="pack-item-remaining" data-testid="remaining">
                  {remainingText}
                </span>
              </div>
              <ProgressBar
                value={item.remaining}
                max={item.allowance}
                label={`${services} remaining`}
                valueText={spokenRemaining(item.remaining, item.allowance, pack.metric, currency)}
                muted={!open}
              />
            </li>
          );
        })}
      </ul>
      {pack.status === "CANCELLED" && pack.cancelReason && (
        <p className="pack-cancel-reason">Cancelled: {pack.cancelReason}</p>
      )}
    </article>
  );
}

/** "7 of 10 sessions remaining", for screen readers. */
function spokenRemaining(remaining: number, allowance: number, metric: Metric, currency: string): string {
  const unit = metric === "SESSIONS" ? " sessions" : metric === "MINUTES" ? " hours" : "";
  return `${formatQuantity(remaining, metric, currency)} of ${formatQuantity(allowance, metric, currency)}${unit} remaining`;
}

function ExpiryText({ iso, timezone, open }: { iso: string; timezone: string; open: boolean }) {
  const days = daysUntil(iso, timezone);
  const soon = open && days >= 0 && days <= 30;
  return (
    <>
      {formatDate(iso, timezone)}
      {open && days >= 0 && (
        <span className={soon ? "pack-expiry-soon" : "pack-expiry-rel"}> · {relativeDays(days)}</span>
      )}
    </>
  );
}
