// One-click fixes from the count investigation: the server names a mutation and gives its input (with
// global IDs); the dashboard sends that input unchanged as the mutation's `input` and reports what came
// back. Only the mutations below can be named (DiagnosisFix.mutation).
import { createRequest, type Client, type CombinedError, type TypedDocumentNode } from "@urql/core";
import { filter, pipe, take, toPromise } from "wonka";
import {
  FixAllocateInvoiceLineDocument,
  FixChangeAppointmentServiceDocument,
  FixChangeInvoiceLineServiceDocument,
  FixChargeAppointmentDocument,
  FixCheckInAppointmentDocument,
  FixCorrectPackBalanceDocument,
  FixRecordPaymentDocument,
} from "../../gql/graphql";
import type { UserErrorLike } from "../../ui/UserErrors";

interface FixPayload {
  pack: { id: string } | null;
  userErrors: readonly UserErrorLike[];
}

// Every fix mutation selects the same payload: the changed pack's id and the userErrors.
type FixDocument = TypedDocumentNode<Record<string, FixPayload>, { input: never }>;

const FIX_DOCUMENTS: Record<string, FixDocument> = {
  allocateInvoiceLine: FixAllocateInvoiceLineDocument as unknown as FixDocument,
  checkInAppointment: FixCheckInAppointmentDocument as unknown as FixDocument,
  chargeAppointment: FixChargeAppointmentDocument as unknown as FixDocument,
  recordPayment: FixRecordPaymentDocument as unknown as FixDocument,
  correctPackBalance: FixCorrectPackBalanceDocument as unknown as FixDocument,
  changeAppointmentService: FixChangeAppointmentServiceDocument as unknown as FixDocument,
  changeInvoiceLineService: FixChangeInvoiceLineServiceDocument as unknown as FixDocument,
};

export interface FixRequest {
  mutation: string;
  input: unknown;
}

export interface FixOutcome {
  ok: boolean;
  userErrors: readonly UserErrorLike[];
  error: CombinedError | null;
  /** The pack the mutation changed (a check-in may deduct from another of the client's packs). */
  packId: string | null;
}

export function isKnownFix(mutation: string): boolean {
  return Object.hasOwn(FIX_DOCUMENTS, mutation);
}

/** Runs a finding's fix: `fix.input` goes unchanged into the named mutation's `input` argument. */
export async function applyFix(client: Client, fix: FixRequest): Promise<FixOutcome> {
  const document = FIX_DOCUMENTS[fix.mutation];
  if (!isKnownFix(fix.mutation) || !document) {
    return {
      ok: false,
      userErrors: [
        {
          code: "UNSUPPORTED_FIX",
          message: `This dashboard cannot run “${fix.mutation}” yet. Reload the page to get the latest version.`,
        },
      ],
      error: null,
      packId: null,
    };
  }
  const result = await pipe(
    client.executeMutation(createRequest(document, { input: fix.input as never })),
    filter((r) => !r.hasNext),
    take(1),
    toPromise,
  );
  const payload = result.data?.[fix.mutation] ?? null;
  const userErrors = payload?.userErrors ?? [];
  return {
    ok: !result.error && payload !== null && userErrors.length === 0,
    userErrors,
    error: result.error ?? null,
    packId: payload?.pack?.id ?? null,
  };
}
