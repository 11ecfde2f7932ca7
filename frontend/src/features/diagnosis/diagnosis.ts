// Plain words for the count investigation: the headline ("The pack shows 3 sessions used; the records
// say 4."), a short title per cause, and what to do when the viewer has no one-click fix.
import type { DiagnosisCode, Metric, PackDiagnosisQuery } from "../../gql/graphql";
import { formatAmount } from "../../lib/format";

export type Diagnosis = NonNullable<PackDiagnosisQuery["pack"]>["diagnosis"];
export type Finding = Diagnosis["findings"][number];

export const FINDING_TITLE: Record<DiagnosisCode, string> = {
  LEDGER_MISMATCH: "Stored count out of step with the history",
  PACK_NOT_PAID: "Pack not fully paid",
  FIRST_SESSION_NOT_DEDUCTED: "First session not deducted at the sale",
  APPOINTMENT_NOT_CHECKED_IN: "Visit never checked in",
  APPOINTMENT_NO_CHARGE: "Checked in with “no charge”",
  APPOINTMENT_DELETED: "Appointment deleted from the schedule",
  LINE_NOT_ALLOCATED: "Visit charged at full price",
  BILLED_BEFORE_PURCHASE: "Visit billed before the pack was bought",
  SERVICE_NOT_IN_PACK: "Different service from the pack’s",
};

/** Causes whose fix deducts a visit (held back by the server while a paid-only pack is unpaid). */
const DEDUCTING: ReadonlySet<DiagnosisCode> = new Set<DiagnosisCode>([
  "FIRST_SESSION_NOT_DEDUCTED",
  "APPOINTMENT_NO_CHARGE",
  "APPOINTMENT_DELETED",
  "LINE_NOT_ALLOCATED",
  "BILLED_BEFORE_PURCHASE",
]);

export interface Headline {
  tone: "ok" | "warn";
  text: string;
}

/** The one sentence at the top of the panel. */
export function headline(diagnosis: Diagnosis, metric: Metric, currency: string): Headline {
  const amount = (value: number) => formatAmount(value, metric, currency);
  if (diagnosis.countIsRight) return { tone: "ok", text: "The count matches the records." };
  if (diagnosis.difference !== 0) {
    return {
      tone: "warn",
      text: `The pack shows ${amount(diagnosis.shownUsed)} used; the records say ${amount(diagnosis.expectedUsed)}.`,
    };
  }
  const n = diagnosis.findings.length;
  return {
    tone: "warn",
    text: `The pack shows ${amount(diagnosis.shownUsed)} used, as the records say, but ${n} ${n === 1 ? "thing needs" : "things need"} a look.`,
  };
}

/**
 * What a finding's units mean for the count: counted ones are part of "the records say" (the pack
 * should have deducted them); the others are left out unless the visit was meant to count.
 */
export function unitsNote(finding: Finding, metric: Metric, currency: string): string | null {
  if (finding.units <= 0) return null;
  const amount = formatAmount(finding.units, metric, currency);
  return finding.counted
    ? `Missing from the count: ${amount}`
    : `Not included in the count above (${amount}): it counts only if the visit was meant to.`;
}

/** Why there is no button, when the server offers this viewer no fix. */
export function noFixHint(finding: Finding, context: { canManage: boolean; unpaid: boolean }): string | null {
  if (finding.fix || finding.code === "LEDGER_MISMATCH" || finding.code === "PACK_NOT_PAID") return null;
  if (context.unpaid && DEDUCTING.has(finding.code)) {
    return "Record the payment first (see above): then this visit can be deducted.";
  }
  if (finding.code === "SERVICE_NOT_IN_PACK") {
    return "No one-click fix: the pack is not open or has not enough left to take this visit.";
  }
  if (finding.code === "APPOINTMENT_NOT_CHECKED_IN") return null;
  return context.canManage
    ? "No one-click fix: the pack is not open or has no room left. Use a session correction below if it should count."
    : "No one-click fix: the pack is not open or has no room left. Ask a manager to correct the count.";
}

/** A stable key for a finding across refetches (for its error message and busy state). */
export function findingKey(finding: Finding): string {
  return [
    finding.code,
    finding.appointment?.id ?? "",
    finding.invoiceLine?.id ?? "",
    finding.item?.id ?? "",
  ].join(":");
}
