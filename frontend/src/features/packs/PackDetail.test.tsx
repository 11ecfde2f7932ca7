import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { PackDetailQuery } from "../../gql/graphql";
import { makePack, redeemed, viewerFixture } from "../../test/fixtures";
import { fakeLive, mockClient, renderWith } from "../../test/render";
import { buildTimeline } from "./PackHistory";
import { PackDetail } from "./PackDetail";

type DetailPack = NonNullable<PackDetailQuery["pack"]>;

function detailPack(): DetailPack {
  const base = makePack({ id: "p1" });
  const entry = (
    id: string,
    kind: "REDEMPTION" | "REVERSAL" | "CORRECTION",
    quantity: number,
    extra: Partial<DetailPack["history"]["edges"][number]["node"]> = {},
  ) => ({
    node: {
      id,
      kind,
      quantity,
      sessionNumber: null,
      reason: "",
      label: "",
      createdAt: `2025-05-0${id}T01:00:00Z`,
      staff: { id: "s", name: "Sam Patel" },
      item: { id: base.items[0].id },
      appointment: null,
      invoiceLine: null,
      ...extra,
    },
  });
  return {
    ...base,
    refundQuote: 0,
    history: {
      totalCount: 3,
      edges: [
        entry("3", "CORRECTION", 1, { reason: "Paper card session", staff: { id: "m", name: "Marcus Lee" } }),
        entry("2", "REVERSAL", -1, { sessionNumber: 2, reason: "Appointment cancelled" }),
        entry("1", "REDEMPTION", 1, {
          sessionNumber: 1,
          appointment: {
            id: "a",
            startsAt: "2025-04-30T23:00:00Z",
            service: { id: "s1", name: "Physio 45" },
          },
          invoiceLine: { id: "l", invoice: { id: "i", number: "INV-00007" } },
        }),
      ],
    },
    payments: [
      {
        id: "pay",
        amount: 40000,
        method: "CARD",
        reason: "",
        receivedAt: "2025-05-04T00:00:00Z",
        staff: null,
      },
    ],
    notes: [{ id: "n", text: "Agreed to pay per visit", createdAt: "2025-05-05T00:00:00Z", staff: null }],
  };
}

describe("pack history", () => {
  it("shows corrections as 'Correction: reason', redemptions with their visit, newest first", () => {
    const timeline = buildTimeline(detailPack(), "AUD", "Australia/Sydney");
    expect(timeline.map((e) => e.kind)).toEqual(["note", "payment", "correction", "reversal", "redemption"]);
    expect(timeline[2].title).toBe("Correction: Paper card session");
    expect(timeline[2].detail).toBe("1 session marked used");
    expect(timeline[3].title).toBe("Session 2 reversed: 1 session given back");
    expect(timeline[4].title).toBe("Session 1 of 10 used");
    expect(timeline[4].detail).toMatch(/^Physio 45 · visit .*2025.* · INV-00007$/);
  });
});

describe("pack history of a two-item pack", () => {
  it("numbers sessions per item: massage session 1 of 5, not of 10", () => {
    const pack = detailPack();
    const physio = { ...pack.items[0], id: "physio", allowance: 5 };
    const massage = { ...pack.items[0], id: "massage", allowance: 5 };
    const redemption = pack.history.edges[2];
    const timeline = buildTimeline(
      {
        ...pack,
        items: [physio, massage],
        payments: [],
        notes: [],
        history: {
          totalCount: 1,
          edges: [{ node: { ...redemption.node, item: { id: "massage" } } }],
        },
      },
      "AUD",
      "Australia/Sydney",
    );
    expect(timeline[0].title).toBe("Session 1 of 5 used");
  });
});

describe("PackDetail", () => {
  function renderDetail(role: "MANAGER" | "STAFF", mutate?: (name: string) => unknown) {
    const pack = { ...detailPack(), amountPaid: 40000, balanceDue: 40000, paymentStatus: "PARTIAL" as const };
    const { client, executeQuery, executeMutation } = mockClient(
      (name) => (name === "PackDetail" ? { pack } : null),
      mutate ? (name) => mutate(name) as never : undefined,
    );
    const live = fakeLive();
    renderWith(<PackDetail id="p1" />, { client, live: live.live, viewer: viewerFixture(role) });
    return { pack, live, executeQuery, executeMutation };
  }

  function variablesOf(call: unknown[]) {
    return (call[0] as { variables: { input: Record<string, unknown> } }).variables.input;
  }

  it("lets a manager refund with a method and a reason", async () => {
    const { pack, executeMutation } = renderDetail("MANAGER", () => ({
      refundPayment: { pack: { ...pack, amountPaid: 30000 }, userErrors: [] },
    }));
    const form = screen.getByRole("form", { name: "Refund" });
    fireEvent.change(within(form).getByLabelText("Amount"), { target: { value: "100" } });
    fireEvent.change(within(form).getByLabelText("Method"), { target: { value: "CASH" } });
    fireEvent.click(within(form).getByRole("button", { name: "Refund" }));
    expect(await within(form).findByRole("alert")).toHaveTextContent("Enter why the money is given back.");
    expect(executeMutation).not.toHaveBeenCalled();

    fireEvent.change(within(form).getByLabelText("Reason"), { target: { value: "goodwill" } });
    fireEvent.click(within(form).getByRole("button", { name: "Refund" }));
    await waitFor(() => expect(executeMutation).toHaveBeenCalledTimes(1));
    expect(variablesOf(executeMutation.mock.calls[0])).toMatchObject({
      packId: "p1",
      amount: 10000,
      method: "CASH",
      reason: "goodwill",
    });
    expect(await within(form).findByRole("status")).toHaveTextContent("Refund of");
  });

  it("sends a retried payment with the same idempotency key, and the next payment with another", async () => {
    let answer: unknown = null; // first: no answer (a lost response)
    const { pack, executeMutation } = renderDetail("STAFF", () => answer);
    const form = screen.getByRole("form", { name: "Record payment" });
    const pay = () => fireEvent.click(within(form).getByRole("button", { name: "Record payment" }));
    pay();
    await waitFor(() => expect(executeMutation).toHaveBeenCalledTimes(1));
    answer = { recordPayment: { pack: { ...pack, amountPaid: 70000, balanceDue: 10000 }, userErrors: [] } };
    pay();
    await waitFor(() => expect(executeMutation).toHaveBeenCalledTimes(2));
    // the rest of the balance, paid next: another payment
    await waitFor(() => expect(within(form).getByLabelText("Amount")).toHaveValue("100.00"));
    fireEvent.change(within(form).getByLabelText("Amount"), { target: { value: "400.00" } });
    pay();
    await waitFor(() => expect(executeMutation).toHaveBeenCalledTimes(3));
    const [lost, retried, next] = executeMutation.mock.calls.map(variablesOf);
    expect(retried.idempotencyKey).toBe(lost.idempotencyKey);
    expect(retried).toMatchObject({ amount: 40000, method: "CARD" });
    // the same amount as the first, yet a new key: the first attempt was answered
    expect(next).toMatchObject({ amount: 40000, method: "CARD" });
    expect(next.idempotencyKey).not.toBe(lost.idempotencyKey);
  });

  it("shows a refund's reason in the history", () => {
    const pack = detailPack();
    const refund = {
      ...pack.payments[0],
      id: "r",
      amount: -5000,
      method: "CASH" as const,
      reason: "goodwill",
    };
    const timeline = buildTimeline({ ...pack, payments: [refund] }, "AUD", "Australia/Sydney");
    const entry = timeline.find((e) => e.kind === "refund");
    expect(entry?.title).toMatch(/^Refund .*50\.00$/);
    expect(entry?.detail).toBe("Cash · goodwill");
  });

  it("offers managers the correction, expiry, cancel and delete controls", () => {
    renderDetail("MANAGER");
    expect(screen.getByRole("heading", { name: "Session correction" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Change expiry" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Cancel pack…" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Delete pack…" })).toBeInTheDocument();
  });

  it("does not offer staff what only managers may do", () => {
    renderDetail("STAFF");
    expect(screen.getByRole("heading", { name: "Record payment" })).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "Add note" })).toBeInTheDocument();
    expect(screen.queryByRole("heading", { name: "Session correction" })).toBeNull();
    expect(
      screen.queryByRole("button", { name: /Change expiry|Cancel pack|Delete pack|Mark used|Give back/ }),
    ).toBeNull();
    expect(screen.getByTestId("history")).toHaveTextContent("Correction: Paper card session");
  });

  it("replaces the card from a live event's snapshot", () => {
    const { pack, live } = renderDetail("STAFF");
    act(() => live.emit({ type: "SESSION_REDEEMED", pack: redeemed(pack) }));
    const card = screen.getByTestId("pack-card");
    expect(within(card).getByTestId("used-summary")).toHaveTextContent("4/10 sessions used");
    expect(within(card).getByRole("progressbar")).toHaveAttribute("aria-valuenow", "6");
  });
});
