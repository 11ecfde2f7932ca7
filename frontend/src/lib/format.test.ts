import { describe, expect, it } from "vitest";
import {
  daysUntil,
  formatAmount,
  endOfLocalDayIso,
  formatMoney,
  inputToMinor,
  localDayBounds,
  remainingSummary,
  usedSummary,
} from "./format";

describe("format", () => {
  it("says usage in the pack's metric", () => {
    expect(usedSummary(3, 10, "SESSIONS", "AUD")).toBe("3/10 sessions used");
    expect(usedSummary(150, 600, "MINUTES", "AUD")).toBe("2.5/10 hours used");
    expect(usedSummary(15000, 50000, "MONEY", "USD")).toBe("$150.00/$500.00 used");
    expect(remainingSummary(7, 10, "SESSIONS", "AUD")).toBe("7/10 remaining");
    expect(remainingSummary(450, 600, "MINUTES", "AUD")).toBe("7.5/10 hours remaining");
  });

  it("says an amount with its unit", () => {
    expect(formatAmount(1, "SESSIONS", "AUD")).toBe("1 session");
    expect(formatAmount(4, "SESSIONS", "AUD")).toBe("4 sessions");
    expect(formatAmount(60, "MINUTES", "AUD")).toBe("1 hour");
    expect(formatAmount(195, "MINUTES", "AUD")).toBe("3.25 hours");
    expect(formatAmount(9500, "MONEY", "USD")).toBe("$95.00");
  });

  it("handles money as integer minor units", () => {
    expect(formatMoney(12345, "USD")).toBe("$123.45");
    expect(inputToMinor("12.5", "USD")).toBe(1250);
    expect(inputToMinor("0", "USD")).toBeNull();
    expect(inputToMinor("abc", "USD")).toBeNull();
    expect(inputToMinor("1500", "JPY")).toBe(1500);
  });

  it("computes the business day in its timezone", () => {
    // 23:30 UTC on 2 June is 09:30 on 3 June in Sydney (UTC+10).
    const [start, end] = localDayBounds("Australia/Sydney", new Date("2025-06-02T23:30:00Z"));
    expect(start.toISOString()).toBe("2025-06-02T14:00:00.000Z");
    expect(end.toISOString()).toBe("2025-06-03T14:00:00.000Z");
    // Daylight saving starts in Sydney on 5 October 2025: that day is 23 hours long.
    const [dstStart, dstEnd] = localDayBounds("Australia/Sydney", new Date("2025-10-05T03:00:00Z"));
    expect(dstStart.toISOString()).toBe("2025-10-04T14:00:00.000Z");
    expect(dstEnd.toISOString()).toBe("2025-10-05T13:00:00.000Z");
  });

  it("makes a chosen expiry date last the whole local day", () => {
    expect(endOfLocalDayIso("2025-06-30", "Europe/London")).toBe("2025-06-30T22:59:59.000Z");
    expect(daysUntil("2025-06-30T22:59:59Z", "Europe/London", new Date("2025-06-20T12:00:00Z"))).toBe(10);
  });
});
