import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { InvoiceDocumentQuery } from "../../gql/graphql";
import { mockClient, renderWith } from "../../test/render";
import { InvoicePrint, lineDetail } from "./InvoicePrint";

type Invoice = NonNullable<InvoiceDocumentQuery["invoice"]>;
type Line = Invoice["lines"][number];

function line(overrides: Partial<Line> = {}): Line {
  return {
    id: "l1",
    kind: "SERVICE",
    description: "Massage 60",
    quantity: 1,
    amount: 0,
    chargedAmount: 0,
    voidedAmount: 0,
    isVoid: false,
    voidReason: "",
    sessionNumber: 2,
    retrospective: false,
    units: 1,
    uncoveredAmount: 0,
    service: { id: "s1", name: "Massage 60" },
    pack: { id: "p1", name: "5 Physio + 5 Massage", metric: "SESSIONS" },
    ...overrides,
  };
}

const INVOICE: Invoice = {
  id: "i1",
  number: "INV-00093",
  issuedOn: "2026-12-03",
  status: "PARTIALLY_PAID",
  currency: "AUD",
  total: 17000,
  amountPaid: 5000,
  balanceDue: 12000,
  voidReason: "",
  client: { id: "c1", name: "Ben Carter", email: "ben@example.test", phone: "0412 555 102" },
  lines: [
    line(),
    line({
      id: "l2",
      description: "Massage 90",
      amount: 7000,
      chargedAmount: 7000,
      units: 8000,
      uncoveredAmount: 7000,
      sessionNumber: 1,
      pack: { id: "p2", name: "$80 gift card", metric: "MONEY" },
    }),
    line({
      id: "l3",
      description: "Physio",
      pack: null,
      sessionNumber: null,
      amount: 10000,
      chargedAmount: 10000,
    }),
    line({
      id: "l4",
      description: "Assessment",
      pack: null,
      sessionNumber: null,
      amount: 12000,
      chargedAmount: 0,
      voidedAmount: 12000,
      isVoid: true,
      voidReason: "Booked in error",
    }),
  ],
  payments: [
    {
      id: "pay1",
      amount: 5000,
      method: "CARD",
      reason: "",
      isRefund: false,
      receivedAt: "2026-12-03T05:00:00Z",
    },
  ],
};

describe("the printable invoice", () => {
  it("shows the business, the client, every line with its pack, the totals and payments", () => {
    const { client } = mockClient((name) => (name === "InvoiceDocument" ? { invoice: INVOICE } : null));
    renderWith(<InvoicePrint id="i1" />, { client });
    const sheet = screen.getByRole("article", { name: "Invoice INV-00093" });
    expect(sheet).toHaveTextContent("Harbour Physio");
    expect(within(sheet).getByRole("heading", { name: "Invoice INV-00093" })).toBeVisible();
    expect(within(sheet).getByRole("region", { name: "Bill to" })).toHaveTextContent("Ben Carter");
    expect(screen.getByTestId("document-status")).toHaveTextContent("Partly paid");
    expect(sheet).toHaveTextContent("AUD");
    const rows = within(sheet).getAllByRole("row");
    expect(rows[1]).toHaveTextContent("Massage 605 Physio + 5 Massage, session 21A$0.00");
    expect(rows[2]).toHaveTextContent("A$80.00 paid from the pack");
    expect(rows[4]).toHaveTextContent("Void: Booked in error");
    expect(screen.getByTestId("document-total")).toHaveTextContent("A$170.00");
    expect(screen.getByTestId("document-due")).toHaveTextContent("A$120.00");
    expect(within(sheet).getByRole("region", { name: "Payments" })).toHaveTextContent("Paid card");
    expect(screen.getByRole("button", { name: "Print" })).toBeEnabled();
  });

  it("says so when the invoice is not there", () => {
    const { client } = mockClient(() => ({ invoice: null }));
    renderWith(<InvoicePrint id="nope" />, { client });
    expect(screen.getByText(/does not exist/)).toBeVisible();
  });

  it("words a line's detail", () => {
    expect(lineDetail(line(), "AUD")).toBe("5 Physio + 5 Massage, session 2");
    expect(lineDetail(line({ kind: "PACK_SALE", sessionNumber: null }), "AUD")).toBe(
      "Sale of 5 Physio + 5 Massage",
    );
    expect(lineDetail(line({ pack: null, voidedAmount: 500, voidReason: "discount" }), "USD")).toBe(
      "$5.00 voided: discount",
    );
  });
});
