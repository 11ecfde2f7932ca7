import { useEffect, useMemo, useState } from "react";
import { useClient, useQuery } from "urql";
import { PackDiagnosisDocument } from "../../gql/graphql";
import { formatDay, formatTime } from "../../lib/format";
import { useCanManage, useLocale } from "../../lib/session";
import { APPOINTMENT_LABEL } from "../../ui/Badges";
import { ErrorList } from "../../ui/UserErrors";
import { useDebounced, useOnResume, usePackEvents } from "../live/LiveContext";
import type { PackSnapshot } from "../packs/packStore";
import {
  FINDING_TITLE,
  findingKey,
  headline,
  noFixHint,
  unitsNote,
  type Diagnosis,
  type Finding,
} from "./diagnosis";
import { applyFix, type FixOutcome } from "./fixes";

/**
 * "Why is this count wrong?": what the AcuBliss article has staff work out by hand (invoices and
 * appointments one by one), done by the server. Shows the count against the records, each cause in
 * plain words with its visit, and a one-click fix per cause; refetches after every fix, because one fix
 * can make others possible (a payment first, then the deductions).
 */
export function InvestigationPanel({ pack, onFixed }: { pack: PackSnapshot; onFixed?: () => void }) {
  const { currency } = useLocale();
  const canManage = useCanManage();
  const client = useClient();
  const [result, reexecute] = useQuery({ query: PackDiagnosisDocument, variables: { id: pack.id } });
  const diagnosis = result.data?.pack?.diagnosis ?? null;

  const [busy, setBusy] = useState<string | null>(null);
  const [failures, setFailures] = useState<Record<string, FixOutcome>>({});
  const [fixed, setFixed] = useState<ReadonlySet<string>>(new Set());
  const [done, setDone] = useState<string | null>(null);

  // A fixed finding stays hidden until the refetched diagnosis replaces the old one.
  useEffect(() => setFixed(new Set()), [diagnosis]);

  const recheck = () => reexecute({ requestPolicy: "network-only" });
  const refresh = useDebounced(recheck, 300);
  usePackEvents((event) => {
    if (event.pack?.id === pack.id) refresh();
  });
  useOnResume(() => refresh());

  async function runFix(key: string, finding: Finding) {
    if (!finding.fix) return;
    setBusy(key);
    setDone(null);
    const outcome = await applyFix(client, finding.fix);
    setBusy(null);
    if (outcome.ok) {
      setFailures((all) => {
        const rest = { ...all };
        delete rest[key];
        return rest;
      });
      setFixed((keys) => new Set([...keys, key]));
      setDone(`Done: ${finding.fix.label}.`);
      recheck();
      onFixed?.();
    } else {
      setFailures((all) => ({ ...all, [key]: outcome }));
    }
  }

  const visible = useMemo(
    () => (diagnosis?.findings ?? []).filter((finding) => !fixed.has(findingKey(finding))),
    [diagnosis, fixed],
  );

  return (
    <section
      className="panel investigation"
      aria-labelledby="investigation-heading"
      aria-busy={result.fetching}
      data-testid="investigation"
    >
      <div className="investigation-head">
        <h2 id="investigation-heading">Why is this count wrong?</h2>
        <button
          type="button"
          className="btn btn-small btn-ghost"
          onClick={recheck}
          disabled={result.fetching || busy !== null}
        >
          {result.fetching ? "Checking…" : "Check again"}
        </button>
      </div>
      <ErrorList error={result.error} />
      {done && (
        <p className="alert alert-ok" role="status">
          {done}
        </p>
      )}
      {!diagnosis ? (
        !result.error && <p className="muted investigation-loading">Checking the visits and invoices…</p>
      ) : (
        <Result
          diagnosis={diagnosis}
          findings={visible}
          pack={pack}
          currency={currency}
          canManage={canManage}
          busy={busy}
          failures={failures}
          onFix={runFix}
        />
      )}
    </section>
  );
}

function Result({
  diagnosis,
  findings,
  pack,
  currency,
  canManage,
  busy,
  failures,
  onFix,
}: {
  diagnosis: Diagnosis;
  findings: readonly Finding[];
  pack: PackSnapshot;
  currency: string;
  canManage: boolean;
  busy: string | null;
  failures: Record<string, FixOutcome>;
  onFix: (key: string, finding: Finding) => void;
}) {
  const { timezone } = useLocale();
  const line = headline(diagnosis, pack.metric, currency);
  if (diagnosis.countIsRight || findings.length === 0) {
    return (
      <div className="investigation-ok" data-testid="investigation-headline">
        <span className="investigation-ok-icon" aria-hidden="true">
          ✓
        </span>
        <div>
          <p className="investigation-headline">
            {diagnosis.countIsRight ? line.text : "Fixed. Checking the records again…"}
          </p>
          {diagnosis.countIsRight && (
            <p className="muted">
              Nothing is missing: every visit and invoice since the purchase is accounted for.
            </p>
          )}
        </div>
      </div>
    );
  }

  const unpaid = diagnosis.findings.some((f) => f.code === "PACK_NOT_PAID");
  const itemNames = new Map(
    pack.items.map((item) => [item.id, item.services.map((s) => s.name).join(", ") || "Any service"]),
  );
  const itemDifferences =
    pack.items.length > 1 ? diagnosis.items.filter((item) => item.expectedUsed !== item.shownUsed) : [];
  const seen = new Map<string, number>();

  return (
    <>
      <p className="investigation-headline investigation-warn" data-testid="investigation-headline">
        {line.text}
      </p>
      {itemDifferences.length > 0 && (
        <ul className="investigation-items">
          {itemDifferences.map((item) => (
            <li key={item.item.id}>
              {itemNames.get(item.item.id)}: shows {item.shownUsed} used, should be {item.expectedUsed}
            </li>
          ))}
        </ul>
      )}
      <p className="muted investigation-intro">
        {findings.length === 1 ? "What the records show:" : `${findings.length} things found in the records:`}
      </p>
      <ol className="findings" aria-label="Findings">
        {findings.map((finding) => {
          const base = findingKey(finding);
          const n = (seen.get(base) ?? 0) + 1;
          seen.set(base, n);
          const key = n > 1 ? `${base}#${n}` : base;
          const failure = failures[key];
          const note = unitsNote(finding, pack.metric, currency);
          const hint = noFixHint(finding, { canManage, unpaid });
          const appointment = finding.appointment;
          const tone =
            finding.code === "LEDGER_MISMATCH"
              ? "error"
              : finding.counted || !finding.units
                ? "warn"
                : "info";
          return (
            <li
              key={key}
              className={`finding finding-${tone}`}
              data-testid="finding"
              data-code={finding.code}
            >
              <h3 className="finding-title">{FINDING_TITLE[finding.code]}</h3>
              <p className="finding-message">{finding.message}</p>
              <dl className="finding-meta">
                {finding.visitDate && (
                  <div>
                    <dt>Visit</dt>
                    <dd>
                      {formatDay(finding.visitDate)}
                      {appointment && `, ${formatTime(appointment.startsAt, timezone)}`}
                    </dd>
                  </div>
                )}
                {appointment && (
                  <div>
                    <dt>Appointment</dt>
                    <dd>
                      {appointment.service?.name ? `${appointment.service.name} · ` : ""}
                      {appointment.deletedAt ? "Deleted" : APPOINTMENT_LABEL[appointment.status]}
                    </dd>
                  </div>
                )}
                {finding.invoiceLine?.invoice && (
                  <div>
                    <dt>Invoice</dt>
                    <dd>{finding.invoiceLine.invoice.number}</dd>
                  </div>
                )}
                {pack.items.length > 1 && finding.item && (
                  <div>
                    <dt>Allowance</dt>
                    <dd>{itemNames.get(finding.item.id)}</dd>
                  </div>
                )}
              </dl>
              {note && <p className="finding-units">{note}</p>}
              {finding.fix ? (
                <div className="form-actions">
                  <button
                    type="button"
                    className="btn btn-primary"
                    disabled={busy !== null}
                    onClick={() => onFix(key, finding)}
                  >
                    {busy === key ? "Fixing…" : finding.fix.label}
                  </button>
                </div>
              ) : (
                hint && <p className="finding-hint">{hint}</p>
              )}
              {failure && <ErrorList userErrors={failure.userErrors} error={failure.error} />}
            </li>
          );
        })}
      </ol>
    </>
  );
}
