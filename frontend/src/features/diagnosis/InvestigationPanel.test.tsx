import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { makePack, viewerFixture } from "../../test/fixtures";
import { mockClient, renderWith } from "../../test/render";
import { headline, noFixHint, unitsNote, type Diagnosis, type Finding } from "./diagnosis";
import { InvestigationPanel } from "./InvestigationPanel";

const PACK = makePack({ id: "p1" });
const ITEM = PACK.items[0].id;

function finding(overrides: Partial<Finding> = {}): Finding {
  return {
    code: "APPOINTMENT_NO_CHARGE",
    message:
      "The Physio 45 appointment on Thu 1 May 2025 at 10:00 was checked in with “no charge”, so it was not deducted from this pack.",
    units: 1,
    counted: true,
    visitDate: "2025-05-01",
    appointment: {
      id: "appt-1",
      startsAt: "2025-05-01T00:00:00Z",
      status: "ATTENDED",
      deletedAt: null,
      service: { id: "service-1", name: "Physio 45" },
    },
    invoiceLine: null,
    item: { id: ITEM },
    fix: {
      mutation: "chargeAppointment",
      input: { appointmentId: "appt-1", packId: "p1" },
      label: "Charge this visit to the pack",
    },
    ...overrides,
  };
}

function diagnosis(findings: Finding[], shownUsed = 3): Diagnosis {
  const expectedUsed = shownUsed + findings.filter((f) => f.counted).reduce((sum, f) => sum + f.units, 0);
  return {
    shownUsed,
    expectedUsed,
    difference: expectedUsed - shownUsed,
    countIsRight: findings.length === 0,
    items: [{ item: { id: ITEM }, shownUsed, ledgerUsed: shownUsed, expectedUsed }],
    findings,
  };
}

/** Renders the panel; `answers` are the diagnoses the server gives, one per fetch (the last repeats). */
function renderPanel(
  answers: Diagnosis[],
  options: {
    role?: "MANAGER" | "STAFF";
    mutate?: (name: string, variables: Record<string, unknown>) => unknown;
  } = {},
) {
  let fetches = 0;
  const { client, executeQuery, executeMutation } = mockClient((name) => {
    if (name !== "PackDiagnosis") return null;
    const answer = answers[Math.min(fetches, answers.length - 1)];
    fetches += 1;
    return { pack: { id: "p1", metric: "SESSIONS", diagnosis: answer } };
  }, options.mutate);
  renderWith(<InvestigationPanel pack={PACK} />, {
    client,
    viewer: viewerFixture(options.role ?? "MANAGER"),
  });
  return { executeQuery, executeMutation, fetches: () => fetches };
}

describe("investigation panel", () => {
  it("says calmly when the count matches the records", () => {
    renderPanel([diagnosis([])]);
    expect(screen.getByRole("heading", { name: "Why is this count wrong?" })).toBeInTheDocument();
    expect(screen.getByTestId("investigation-headline")).toHaveTextContent("The count matches the records.");
    expect(screen.queryAllByTestId("finding")).toHaveLength(0);
    expect(screen.getAllByRole("button").map((b) => b.textContent)).toEqual(["Check again"]);
  });

  it("shows the count against the records and each cause in plain words with its visit and fix", () => {
    const line = finding({
      code: "LINE_NOT_ALLOCATED",
      message:
        "Physio 45 on Fri 2 May 2025 (invoice INV-00012) was charged at the full price instead of being deducted from this pack.",
      visitDate: "2025-05-02",
      appointment: null,
      invoiceLine: { id: "line-12", invoice: { id: "inv-12", number: "INV-00012" } },
      fix: {
        mutation: "allocateInvoiceLine",
        input: { lineId: "line-12", packId: "p1" },
        label: "Deduct this visit from the pack",
      },
    });
    renderPanel([diagnosis([finding(), line])]);
    expect(screen.getByTestId("investigation-headline")).toHaveTextContent(
      "The pack shows 3 sessions used; the records say 5 sessions.",
    );
    const [noCharge, notAllocated] = screen.getAllByTestId("finding");
    expect(within(noCharge).getByRole("heading")).toHaveTextContent("Checked in with “no charge”");
    expect(noCharge).toHaveTextContent("was checked in with “no charge”");
    expect(noCharge).toHaveTextContent("1 May 2025");
    expect(noCharge).toHaveTextContent("Physio 45 · Checked in");
    expect(noCharge).toHaveTextContent("Missing from the count: 1 session");
    expect(within(noCharge).getByRole("button", { name: "Charge this visit to the pack" })).toBeEnabled();
    expect(within(notAllocated).getByRole("heading")).toHaveTextContent("Visit charged at full price");
    expect(notAllocated).toHaveTextContent("INV-00012");
    expect(
      within(notAllocated).getByRole("button", { name: "Deduct this visit from the pack" }),
    ).toBeEnabled();
  });

  it("runs the fix's mutation with its input unchanged, then refetches and shows the count right", async () => {
    const user = userEvent.setup();
    const { executeMutation, fetches } = renderPanel([diagnosis([finding()]), diagnosis([], 4)], {
      mutate: (name) =>
        name === "FixChargeAppointment"
          ? { chargeAppointment: { pack: { id: "p1" }, userErrors: [] } }
          : null,
    });
    expect(fetches()).toBe(1);
    await user.click(screen.getByRole("button", { name: "Charge this visit to the pack" }));

    expect(executeMutation).toHaveBeenCalledTimes(1);
    const operation = executeMutation.mock.calls[0][0] as { variables: unknown };
    expect(operation.variables).toEqual({ input: { appointmentId: "appt-1", packId: "p1" } });
    await waitFor(() =>
      expect(screen.getByTestId("investigation-headline")).toHaveTextContent(
        "The count matches the records.",
      ),
    );
    expect(fetches()).toBe(2);
    expect(screen.getByRole("status")).toHaveTextContent("Done: Charge this visit to the pack.");
    expect(screen.queryAllByTestId("finding")).toHaveLength(0);
  });

  it("shows the server's userErrors under the finding and keeps it", async () => {
    const user = userEvent.setup();
    renderPanel([diagnosis([finding()])], {
      mutate: () => ({
        chargeAppointment: {
          pack: null,
          userErrors: [
            { code: "INSUFFICIENT_BALANCE", field: null, message: "The pack has no sessions left." },
          ],
        },
      }),
    });
    await user.click(screen.getByRole("button", { name: "Charge this visit to the pack" }));
    const item = screen.getByTestId("finding");
    expect(await within(item).findByRole("alert")).toHaveTextContent("The pack has no sessions left.");
    expect(within(item).getByRole("button", { name: "Charge this visit to the pack" })).toBeEnabled();
    expect(screen.queryByRole("status")).toBeNull();
  });

  it("pays first, then offers the deduction the payment made possible", async () => {
    const user = userEvent.setup();
    const unpaid = finding({
      code: "PACK_NOT_PAID",
      message: "This pack is not fully paid: 0.00 AUD of 900.00 AUD received, 900.00 AUD still owing.",
      units: 0,
      counted: false,
      visitDate: null,
      appointment: null,
      item: null,
      fix: {
        mutation: "recordPayment",
        input: { packId: "p1", amount: 90000, method: "CARD" },
        label: "Record a payment of 900.00 AUD",
      },
    });
    const blocked = finding({ fix: null });
    const mutations: string[] = [];
    renderPanel([diagnosis([unpaid, blocked]), diagnosis([finding()])], {
      role: "STAFF",
      mutate: (name, variables) => {
        mutations.push(`${name} ${JSON.stringify(variables)}`);
        return { recordPayment: { pack: { id: "p1" }, userErrors: [] } };
      },
    });
    const [, visit] = screen.getAllByTestId("finding");
    expect(visit).toHaveTextContent("Record the payment first");
    expect(within(visit).queryByRole("button")).toBeNull();

    await user.click(screen.getByRole("button", { name: "Record a payment of 900.00 AUD" }));
    expect(mutations).toEqual(['FixRecordPayment {"input":{"packId":"p1","amount":90000,"method":"CARD"}}']);
    expect(await screen.findByRole("button", { name: "Charge this visit to the pack" })).toBeEnabled();
    expect(screen.getAllByTestId("finding")).toHaveLength(1);
  });

  it("fixes a visit for the wrong service by changing its service, as staff", async () => {
    const user = userEvent.setup();
    const wrong = finding({
      code: "SERVICE_NOT_IN_PACK",
      message:
        "Massage 90 on Fri 2 May 2025 (invoice INV-00013) was not deducted because it is not one of this pack's services (Massage 60).",
      counted: false,
      fix: {
        mutation: "changeAppointmentService",
        input: { appointmentId: "appt-1", serviceId: "service-60", packId: "p1" },
        label: "Change it to Massage 60 and deduct it",
      },
    });
    const mutations: string[] = [];
    renderPanel([diagnosis([wrong]), diagnosis([])], {
      role: "STAFF",
      mutate: (name, variables) => {
        mutations.push(`${name} ${JSON.stringify(variables)}`);
        return { changeAppointmentService: { pack: { id: "p1" }, userErrors: [] } };
      },
    });
    expect(screen.getByTestId("finding")).toHaveTextContent("Not included in the count above (1 session)");
    await user.click(screen.getByRole("button", { name: "Change it to Massage 60 and deduct it" }));
    expect(mutations).toEqual([
      'FixChangeAppointmentService {"input":{"appointmentId":"appt-1","serviceId":"service-60","packId":"p1"}}',
    ]);
    await waitFor(() => expect(screen.queryByTestId("finding")).toBeNull());
  });

  it("says why a visit for another service has no fix", () => {
    const other = finding({ code: "SERVICE_NOT_IN_PACK", counted: false, fix: null });
    renderPanel([diagnosis([other])], { role: "STAFF" });
    const item = screen.getByTestId("finding");
    expect(within(item).queryByRole("button")).toBeNull();
    expect(item).toHaveTextContent("not enough left to take this visit");
  });

  it("refuses a fix this dashboard does not know, without calling the server", async () => {
    const user = userEvent.setup();
    const { executeMutation } = renderPanel([
      diagnosis([finding({ fix: { mutation: "dropTables", input: {}, label: "Do something new" } })]),
    ]);
    await user.click(screen.getByRole("button", { name: "Do something new" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("cannot run “dropTables”");
    expect(executeMutation).not.toHaveBeenCalled();
  });
});

describe("investigation words", () => {
  it("says the counts in the pack's metric", () => {
    const d = (shownUsed: number, expectedUsed: number): Diagnosis => ({
      ...diagnosis([finding()], shownUsed),
      expectedUsed,
      difference: expectedUsed - shownUsed,
    });
    expect(headline(d(195, 255), "MINUTES", "AUD").text).toBe(
      "The pack shows 3.25 hours used; the records say 4.25 hours.",
    );
    expect(headline(d(35500, 45000), "MONEY", "USD").text).toBe(
      "The pack shows $355.00 used; the records say $450.00.",
    );
    expect(headline(d(1, 2), "SESSIONS", "USD").text).toBe(
      "The pack shows 1 session used; the records say 2 sessions.",
    );
    expect(unitsNote(finding({ units: 60 }), "MINUTES", "AUD")).toBe("Missing from the count: 1 hour");
    expect(unitsNote(finding({ units: 0 }), "SESSIONS", "AUD")).toBeNull();
  });

  it("explains a missing fix by role", () => {
    const other = finding({ code: "SERVICE_NOT_IN_PACK", fix: null });
    expect(noFixHint(other, { canManage: false, unpaid: false })).toMatch(/not enough left/);
    expect(noFixHint(finding(), { canManage: false, unpaid: false })).toBeNull();
    expect(noFixHint(finding({ fix: null }), { canManage: true, unpaid: true })).toMatch(/payment first/);
    expect(
      noFixHint(finding({ code: "LEDGER_MISMATCH", fix: null }), { canManage: true, unpaid: false }),
    ).toBeNull();
  });
});
