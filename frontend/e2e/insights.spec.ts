// Issue 7 in the browser: the count investigation with its one-click fix, the Tasks view and the
// Reports view. Shares the dashboard tests' server and demo data; each test works on data no other
// test asserts on (Farah's insurer pack, Chloe's used-up task, read-only reports).
import { expect, shot, test } from "./fixtures";
import { graphql, loginToken } from "./server";

interface Ids {
  clientId: string;
  packId: string;
  physioId: string;
}

async function farah(url: string, token: string): Promise<Ids> {
  const data = await graphql<{
    clients: { edges: { node: { id: string; packs: { id: string; name: string }[] } }[] };
    services: { id: string; name: string }[];
  }>(
    url,
    '{ clients(search: "Farah Haddad") { edges { node { id packs { id name } } } } services { id name } }',
    {},
    token,
  );
  const client = data.clients.edges[0].node;
  return {
    clientId: client.id,
    packId: client.packs.find((p) => p.name.startsWith("Insurer Authorisation"))!.id,
    physioId: data.services.find((s) => s.name === "Physio")!.id,
  };
}

test("the investigation finds a visit checked in with no charge, and its one-click fix clears it", async ({
  server,
  signedIn,
}) => {
  // The scenario, made through the API as the front desk would: yesterday's visit checked in with
  // "no charge", so the insurer pack (2/8 used) missed a session.
  const token = await loginToken(server.url, "manager@demo.test");
  const ids = await farah(server.url, token);
  const created = await graphql<{
    createAppointment: { appointment: { id: string } | null; userErrors: { message: string }[] };
  }>(
    server.url,
    "mutation($input: CreateAppointmentInput!) { createAppointment(input: $input) { appointment { id } userErrors { message } } }",
    {
      input: {
        clientId: ids.clientId,
        serviceId: ids.physioId,
        chosenPackId: ids.packId,
        startsAt: new Date(Date.now() - 26 * 3_600_000).toISOString(),
      },
    },
    token,
  );
  expect(created.createAppointment.userErrors).toEqual([]);
  const checkedIn = await graphql<{ checkInAppointment: { userErrors: { message: string }[] } }>(
    server.url,
    "mutation($input: CheckInAppointmentInput!) { checkInAppointment(input: $input) { userErrors { message } } }",
    { input: { appointmentId: created.createAppointment.appointment!.id, noCharge: true } },
    token,
  );
  expect(checkedIn.checkInAppointment.userErrors).toEqual([]);

  // The receptionist opens the pack: the panel says what is wrong and offers the fix.
  const desk = await signedIn("staff", `/packs/${ids.packId}`);
  const card = desk.getByTestId("pack-card");
  await expect(card.getByTestId("used-summary")).toHaveText("2/8 sessions used");
  const panel = desk.getByTestId("investigation");
  await expect(panel.getByRole("heading", { name: "Why is this count wrong?" })).toBeVisible();
  await expect(panel.getByTestId("investigation-headline")).toHaveText(
    "The pack shows 2 sessions used; the records say 3 sessions.",
  );
  const finding = panel.getByTestId("finding");
  await expect(finding).toHaveCount(1);
  await expect(finding).toHaveAttribute("data-code", "APPOINTMENT_NO_CHARGE");
  await expect(finding).toContainText("checked in with “no charge”");
  await expect(finding).toContainText("Physio · Checked in");
  await shot(desk, "15-investigation-finding");

  await finding.getByRole("button", { name: "Charge this visit to the pack" }).click();
  await expect(panel.getByRole("status")).toHaveText("Done: Charge this visit to the pack.");
  await expect(panel.getByTestId("finding")).toHaveCount(0);
  await expect(panel.getByTestId("investigation-headline")).toContainText("The count matches the records.");
  await expect(card.getByTestId("used-summary")).toHaveText("3/8 sessions used");
  await expect(card.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "5");
  await expect(desk.getByTestId("history")).toContainText("Session 3 of 8 used");
  await shot(desk, "16-investigation-fixed");

  // A reload asks the server again: the count stays right.
  await desk.reload();
  await expect(desk.getByTestId("investigation-headline")).toContainText("The count matches the records.");
});

test("Tasks lists a used-up pack's task; Done takes it off the list", async ({ signedIn }) => {
  const desk = await signedIn("staff");
  const nav = desk.getByRole("navigation", { name: "Main" });
  const badge = nav.getByTestId("open-task-count");
  await expect(badge).toHaveText(/\d+$/);
  const before = Number(((await badge.textContent()) ?? "").replace(/\D/g, ""));
  await nav.getByRole("link", { name: /Tasks/ }).click();
  await expect(desk.getByRole("heading", { name: "Tasks", level: 1 })).toBeVisible();

  const chloe = desk.getByTestId("task").filter({ hasText: "Chloe Nguyen" });
  await expect(chloe).toHaveCount(1);
  await expect(chloe).toContainText("Pack used up");
  await expect(chloe.getByRole("link", { name: "8 Visits: Physio or Massage" })).toHaveAttribute(
    "href",
    /^\/packs\//,
  );
  await expect(chloe.getByRole("link", { name: "Chloe Nguyen" })).toHaveAttribute("href", /^\/clients\//);
  await shot(desk, "17-tasks");

  await chloe.getByRole("button", { name: /^Done/ }).click();
  await expect(chloe).toHaveCount(0);
  if (before > 1) await expect(badge).toHaveText(new RegExp(`\\D${before - 1}$`));
  else await expect(badge).toHaveCount(0);

  await desk.getByRole("checkbox", { name: "Show completed tasks" }).check();
  await expect(desk).toHaveURL(/\/tasks\?done=1$/);
  const done = desk.getByTestId("task").filter({ hasText: "Chloe Nguyen" });
  await expect(done).toContainText("by Sam Patel");
  await expect(done.getByRole("button")).toHaveCount(0);
  await shot(desk, "18-tasks-completed");
});

test("Reports shows the summary tiles and draws redemptions per day with the chart library", async ({
  signedIn,
}) => {
  const manager = await signedIn("manager");
  await manager.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Reports" }).click();
  await expect(manager.getByRole("heading", { name: "Reports", level: 1 })).toBeVisible();
  const value = (id: string) => manager.getByTestId(`tile-${id}`).getByTestId("tile-value");
  await expect(value("total")).toHaveText(/^\d+$/);
  await expect(value("cancelled")).toHaveText("1");
  // Money in the business currency (AUD, shown as $ in the en-AU browser), exact to the cent.
  await expect(value("balance-due")).toHaveText(/^\$[\d,]+\.\d\d$/);
  await expect(value("unearned")).toHaveText(/^\$[\d,]+\.\d\d$/);
  await expect(value("expiring")).toHaveText(/^\d+ packs?$/);
  await expect(value("redeemed-today")).toHaveText(/^\d+ sessions?$/);

  const chart = manager.getByTestId("redemptions-chart");
  await expect(chart.locator("svg.recharts-surface")).toBeVisible();
  // The demo's visits (and this run's check-ins) are bars; the axis has the days.
  await expect(chart.locator(".recharts-bar-rectangle").first()).toBeVisible();
  expect(await chart.locator(".recharts-bar-rectangle").count()).toBeGreaterThan(0);
  await expect(chart.locator(".recharts-cartesian-axis-tick-value").first()).toHaveText(/^\d{1,2} \w{3,4}$/);
  // The same figures as a table (inside a closed "Show the figures as a table").
  await expect(manager.locator(".chart-table tbody tr")).toHaveCount(30);
  await expect(manager.getByTestId("chart-summary")).toContainText(
    "visits deducted from packs in the last 30 days",
  );
  await shot(manager, "19-reports");
  await manager.setViewportSize({ width: 820, height: 1180 });
  await shot(manager, "19b-reports-tablet");
});

test("a visit charged for the wrong service is changed to the pack's, and charged once", async ({
  server,
  signedIn,
}) => {
  // Ben's 90-minute massage was chosen at check-in instead of his pack's 60-minute one (the
  // AcuBliss case): charged in full, not deducted.
  const token = await loginToken(server.url, "manager@demo.test");
  const data = await graphql<{
    clients: { edges: { node: { id: string; packs: { id: string; name: string }[] } }[] };
  }>(server.url, '{ clients(search: "Ben Carter") { edges { node { id packs { id name } } } } }', {}, token);
  const ben = data.clients.edges[0].node;
  const packId = ben.packs.find((p) => p.name === "5 Physio + 5 Massage")!.id;

  const desk = await signedIn("staff", `/packs/${packId}`);
  const card = desk.getByTestId("pack-card");
  await expect(card.getByTestId("used-summary")).toHaveText("4/10 sessions used");
  const panel = desk.getByTestId("investigation");
  const finding = panel.getByTestId("finding");
  await expect(finding).toHaveAttribute("data-code", "SERVICE_NOT_IN_PACK");
  await expect(finding).toContainText("Massage 90");
  await expect(finding).toContainText("If the visit was a Massage 60, change its service");
  await finding.getByRole("button", { name: "Change it to Massage 60 and deduct it" }).click();
  await expect(panel.getByRole("status")).toHaveText("Done: Change it to Massage 60 and deduct it.");
  await expect(panel.getByTestId("finding")).toHaveCount(0);
  await expect(card.getByTestId("used-summary")).toHaveText("5/10 sessions used");
  await shot(desk, "20-service-changed");

  // On the invoices the visit is now a Massage 60 on the pack (session 2), charging nothing more.
  await desk.goto(`/clients/${ben.id}`);
  await desk.getByRole("tab", { name: "Invoices" }).click();
  const line = desk.getByRole("row").filter({ hasText: "Massage 60" }).filter({ hasText: "session 2" });
  await expect(line).toHaveCount(1);
  await expect(line.getByRole("cell").last()).toHaveText("$0.00");

  // Today's physio was in fact a 90-minute massage: the desk changes it on the invoice; the
  // physio session goes back and the massage is charged in full, once.
  const physio = desk.getByRole("row").filter({ hasText: "Physio" }).filter({ hasText: "session 3" });
  await physio.getByRole("button", { name: "Change the service of Physio" }).click();
  const form = desk.getByRole("form", { name: "Change the service of Physio" });
  await expect(form).toContainText("Its session on 5 Physio + 5 Massage is given back first.");
  await form.getByRole("button", { name: "Change service" }).click();
  await expect(form.getByRole("alert")).toContainText("Choose the service that was given.");
  await form.getByLabel("Service given").selectOption({ label: "Massage 90" });
  await form.getByRole("button", { name: "Change service" }).click();
  await expect(form).toHaveCount(0);
  const changed = desk.getByRole("row").filter({ hasText: "Massage 90" }).filter({ hasText: "$150.00" });
  await expect(changed.first()).toBeVisible();
  await shot(desk, "20b-invoice-line-service-changed");
  await desk.getByRole("tab", { name: "Packs" }).click();
  await expect(desk.getByTestId("pack-card").getByTestId("used-summary")).toHaveText("4/10 sessions used");
});

test("an invoice prints as a document: the business, the client, the lines and what is due", async ({
  signedIn,
}) => {
  const desk = await signedIn("staff", "/clients");
  await desk.getByPlaceholder("Search by name, email or phone").fill("David");
  await desk.getByRole("link", { name: /David Okafor/ }).click();
  await desk.getByRole("tab", { name: "Invoices" }).click();
  const sale = desk.getByRole("region", { name: /Invoice INV-/ }).filter({ hasText: "Sale of" });
  const number = ((await sale.getByRole("heading").textContent()) ?? "").replace("Invoice ", "");
  await sale.getByRole("link", { name: `Print invoice ${number}` }).click();

  const sheet = desk.getByRole("article", { name: `Invoice ${number}` });
  await expect(sheet).toContainText("Harbour Physio");
  await expect(sheet.getByRole("region", { name: "Bill to" })).toContainText("David Okafor");
  await expect(sheet).toContainText("10 Hours of Therapy");
  await expect(sheet).toContainText("AUD");
  await expect(desk.getByTestId("document-due")).toHaveText("$0.00");
  await expect(desk.getByRole("button", { name: "Print" })).toBeVisible();
  await shot(desk, "21-invoice-document");

  // On paper only the sheet is left: no app header, no buttons.
  await desk.emulateMedia({ media: "print" });
  await expect(desk.getByRole("navigation", { name: "Main" })).toBeHidden();
  await expect(desk.getByRole("button", { name: "Print" })).toBeHidden();
  await expect(sheet).toBeVisible();
  await shot(desk, "21b-invoice-printed");
  await desk.emulateMedia({ media: "screen" });
});
