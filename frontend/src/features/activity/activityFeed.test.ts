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
