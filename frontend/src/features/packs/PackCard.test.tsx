import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { makePack } from "../../test/fixtures";
import { mockClient, renderWith } from "../../test/render";
import { PackCard } from "./PackCard";

function renderCard(pack = makePack()) {
  const { client } = mockClient(() => null);
  return renderWith(<PackCard pack={pack} />, { client });
}

describe("PackCard", () => {
  it("shows usage, remaining and an accessible progress bar for a sessions pack", () => {
    renderCard();
    expect(screen.getByRole("heading", { name: "10 Physio sessions" })).toBeInTheDocument();
    expect(screen.getByText("Anna Lee")).toBeInTheDocument();
    expect(screen.getByTestId("used-summary")).toHaveTextContent("3/10 sessions used");
    expect(screen.getByTestId("remaining")).toHaveTextContent("7/10 remaining");
    const bar = screen.getByRole("progressbar");
    expect(bar).toHaveAttribute("aria-valuenow", "7");
    expect(bar).toHaveAttribute("aria-valuemax", "10");
    expect(bar).toHaveAttribute("aria-valuetext", "7 of 10 sessions remaining");
  });

  it("shows hours for a minutes pack and money for a credit pack", () => {
    renderCard(
      makePack({
        name: "10 hours of therapy",
        metric: "MINUTES",
        items: [
          { id: "i", allowance: 600, used: 150, remaining: 450, services: [{ id: "s", name: "Therapy 50" }] },
        ],
      }),
    );
    expect(screen.getByTestId("used-summary")).toHaveTextContent("2.5/10 hours used");
    expect(screen.getByTestId("remaining")).toHaveTextContent("7.5/10 hours remaining");
  });

  it("shows a credit pack in the business currency", () => {
    renderCard(
      makePack({
        name: "$500 credit",
        metric: "MONEY",
        items: [{ id: "i", allowance: 50000, used: 12000, remaining: 38000, services: [] }],
      }),
    );
    const used = screen.getByTestId("used-summary").textContent ?? "";
    expect(used).toMatch(/120\.00\/.*500\.00 used/);
    expect(screen.getByText("Any service")).toBeInTheDocument();
  });

  it("strikes through the original price when discounted", () => {
    renderCard(makePack({ price: 100000, discount: 10000, finalPrice: 90000 }));
    expect(screen.getByTestId("final-price").textContent).toMatch(/900\.00/);
    const original = screen.getByTestId("original-price");
    expect(original.tagName).toBe("S");
    expect(original.textContent).toMatch(/1,000\.00/);
  });

  it("has no struck price without a discount", () => {
    renderCard();
    expect(screen.queryByTestId("original-price")).toBeNull();
  });

  it.each([
    ["ACTIVE", "Active", "status-active"],
    ["EXPIRED", "Expired", "status-expired"],
    ["FULLY_USED", "Fully Used", "status-fully_used"],
    ["CANCELLED", "Cancelled", "status-cancelled"],
  ] as const)("labels status %s", (status, label, className) => {
    renderCard(makePack({ status }));
    const badge = screen.getByTestId("status-badge");
    expect(badge).toHaveTextContent(label);
    expect(badge).toHaveClass(className);
  });

  it.each([
    ["PAID", "Paid", "payment-paid"],
    ["PARTIAL", "Partial", "payment-partial"],
    ["UNPAID", "Unpaid", "payment-unpaid"],
  ] as const)("labels payment %s", (paymentStatus, label, className) => {
    renderCard(makePack({ paymentStatus }));
    const badge = screen.getByTestId("payment-badge");
    expect(badge).toHaveTextContent(label);
    expect(badge).toHaveClass(className);
  });

  it("shows one bar per item with its services", () => {
    renderCard(
      makePack({
        name: "5 physio + 5 massage",
        items: [
          { id: "i1", allowance: 5, used: 5, remaining: 0, services: [{ id: "s1", name: "Physio" }] },
          { id: "i2", allowance: 5, used: 1, remaining: 4, services: [{ id: "s2", name: "Massage" }] },
        ],
      }),
    );
    const items = screen.getAllByTestId("pack-item");
    expect(items).toHaveLength(2);
    expect(within(items[0]).getByRole("progressbar")).toHaveAttribute("aria-valuenow", "0");
    expect(within(items[1]).getByText("4/5 remaining")).toBeInTheDocument();
    expect(screen.getByTestId("used-summary")).toHaveTextContent("6/10 sessions used");
  });
});
