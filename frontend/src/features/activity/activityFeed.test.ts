import { describe, expect, it } from "vitest";
import type { PackEvent } from "../../lib/api";
import { makePack } from "../../test/fixtures";
import { ActivityFeed, describeEvent } from "./activityFeed";

const locale = { currency: "USD", timezone: "UTC" };

function event(overrides: Partial<PackEvent> & Pick<PackEvent, "type">): PackEvent {
  return {
    cursor: Math.random().toString(36),
    occurredAt: "2025-06-01T10:00:00Z",
    actor: { kind: "STAFF", name: "Sam Patel" },
    statusFrom: null,
    statusTo: null,
    details: {},
    pack: makePack(),
    entry: null,
    payment: null,
    ...overrides,
  } as PackEvent;
}

describe("activity feed", () => {
  it("describes events in the words of the desk", () => {
    const entry = { id: "e", kind: "REDEMPTION" as const, quantity: 1, sessionNumber: 4, reason: "" };
    expect(describeEvent(event({ type: "SESSION_REDEEMED", entry }), locale).text).toBe(
      "Session 4 of 10 used",
    );
    expect(
      describeEvent(
        event({ type: "PACK_CORRECTED", entry: { ...entry, kind: "CORRECTION", reason: "Paper card" } }),
        locale,
      ).text,
    ).toBe("Correction: Paper card");
    expect(
      describeEvent(
        event({ type: "PAYMENT_REFUNDED", payment: { id: "p", amount: -2000, method: "CASH" } }),
        locale,
      ),
    ).toMatchObject({ label: "Refund", text: "Refunded $20.00" });
    expect(
      describeEvent(event({ type: "NOTE_ADDED", details: { text: "Call back Monday" } }), locale).text,
    ).toBe("Note: Call back Monday");
    expect(describeEvent(event({ type: "EXPIRY_CHANGED" }), locale).text).toBe(
      "Expiry removed: never expires",
    );
  });

  it("says where client credit came from and went", () => {
    const moved = { id: "p", amount: -9000, method: "CLIENT_CREDIT" as const };
    expect(
      describeEvent(event({ type: "CLIENT_CREDITED", payment: moved, pack: null }), locale),
    ).toMatchObject({ label: "Credit", text: "$90.00 moved to the client's credit", tone: "money" });
    const paid = { ...moved, amount: 6000 };
    expect(describeEvent(event({ type: "CREDIT_APPLIED", payment: paid }), locale).text).toBe(
      "Paid $60.00 from the client's credit",
    );
    const refund = event({ type: "CREDIT_REFUNDED", pack: null, details: { amount: -3000, method: "CASH" } });
    expect(describeEvent(refund, locale)).toMatchObject({
      label: "Refund",
      text: "Refunded $30.00 of the client's credit",
    });
  });

  it("says which service a visit was changed to and what it is charged now", () => {
    const details = {
      serviceName: "Massage 60",
      invoiceNumber: "INV-00093",
      amountBefore: 15000,
      amountAfter: 0,
    };
    expect(describeEvent(event({ type: "SERVICE_CHANGED", details }), locale)).toMatchObject({
      label: "Service",
      text: "Visit changed to Massage 60 on INV-00093: charged $0.00 instead of $150.00",
    });
  });

  it("says what a void took off an invoice, and why", () => {
    const visit = { invoiceNumber: "INV-00073", description: "Physio", amount: 8000, voided: true };
    expect(
      describeEvent(
        event({ type: "INVOICE_LINE_VOIDED", details: { ...visit, reason: "booked twice" } }),
        locale,
      ),
    ).toMatchObject({ label: "Voided", text: "Physio voided on INV-00073 ($80.00): booked twice" });
    const sale = { invoiceNumber: "INV-00169", amount: 85000, voided: false, reason: "moved away" };
    expect(describeEvent(event({ type: "INVOICE_LINE_VOIDED", details: sale }), locale).text).toBe(
      "Unpaid part of the sale voided on INV-00169 ($850.00): moved away",
    );
    expect(
      describeEvent(
        event({ type: "INVOICE_VOIDED", details: { invoiceNumber: "INV-00005", reason: "wrong client" } }),
        locale,
      ).text,
    ).toBe("Invoice INV-00005 voided: wrong client");
  });

  it("keeps the newest events first, once each", () => {
    const feed = new ActivityFeed();
    const first = event({ type: "PACK_SOLD" });
    const second = event({ type: "NOTE_ADDED" });
    feed.push(first);
    feed.push(second);
    feed.push(first);
    expect(feed.list().map((e) => e.cursor)).toEqual([second.cursor, first.cursor]);
  });
});
