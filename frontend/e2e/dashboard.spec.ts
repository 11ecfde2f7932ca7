import { expect, packCard, shot, signIn, test } from "./fixtures";
import { graphql, loginToken } from "./server";

// The tests share one server and its demo data; each works on its own client's packs.
test.describe.configure({ mode: "serial" });

test("sign in, see the demo packs with the right badges and progress, stay signed in, sign out", async ({
  browser,
  server,
}) => {
  const context = await browser.newContext({ baseURL: server.url });
  const page = await context.newPage();
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await shot(page, "01-login");
  await page.getByLabel("Email").fill("staff@demo.test");
  await page.getByLabel("Password").fill("wrong");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  await signIn(page, "owner");
  await expect(page.getByTestId("connection-state")).toHaveText("Live", { timeout: 10_000 });

  const ana = packCard(page, "Ana Silva", "10 Physio Sessions");
  await expect(ana.getByTestId("status-badge")).toHaveText("Active");
  await expect(ana.getByTestId("payment-badge")).toHaveText("Paid");
  await expect(ana.getByTestId("used-summary")).toHaveText("3/10 sessions used");
  await expect(ana.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "7");
  await expect(ana.getByRole("progressbar")).toHaveAttribute("aria-valuemax", "10");
  await expect(ana.getByTestId("remaining")).toHaveText("7/10 remaining");

  const ben = packCard(page, "Ben Carter", "5 Physio + 5 Massage");
  await expect(ben.getByTestId("payment-badge")).toHaveText("Partial");
  await expect(ben.getByRole("progressbar")).toHaveCount(2);
  await expect(packCard(page, "Jack Robinson", "10 Physio Sessions").getByTestId("payment-badge")).toHaveText(
    "Unpaid",
  );
  await expect(packCard(page, "Hannah Kim", "5 Physio + 5 Massage").getByTestId("status-badge")).toHaveText(
    "Cancelled",
  );
  await expect(packCard(page, "George Wilson", "10 Physio Sessions").getByTestId("status-badge")).toHaveText(
    "Expired",
  );
  const chloe = page.getByTestId("pack-card").filter({ hasText: "Chloe Nguyen" });
  await expect(chloe.getByTestId("status-badge").filter({ hasText: "Fully Used" })).toHaveCount(1);
  // The renewal was sold with a loyalty discount: the original price is struck through.
  await expect(chloe.getByTestId("original-price")).toHaveCount(1);
  await expect(packCard(page, "David Okafor", "10 Hours of Therapy").getByTestId("used-summary")).toHaveText(
    "3.25/10 hours used",
  );
  await expect(
    packCard(page, "Emma Thompson", "$500 Treatment Credit").getByTestId("used-summary"),
  ).toHaveText("$355.00/$500.00 used");
  await expect(page.getByTestId("status-tab-CANCELLED").getByTestId("status-count")).toHaveText("1");
  await shot(page, "02-board");

  // The session survives a reload.
  await page.reload();
  await expect(page.getByTestId("whoami")).toContainText("Olivia Harbour");
  await expect(page.getByTestId("pack-card").first()).toBeVisible();

  await page.setViewportSize({ width: 820, height: 1180 });
  await shot(page, "03-board-tablet");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await page.reload();
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();

  // A token the server no longer accepts sends the user back to the sign-in page.
  await signIn(page, "staff");
  await page.evaluate(() => {
    const session = JSON.parse(localStorage.getItem("packgraph.session") ?? "{}");
    localStorage.setItem("packgraph.session", JSON.stringify({ ...session, token: "pgs_revoked" }));
  });
  await page.reload();
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await context.close();
});

test("a check-in at the desk changes the manager's card within 2 seconds, without a reload", async ({
  signedIn,
}) => {
  const manager = await signedIn("manager");
  const card = packCard(manager, "Ana Silva", "10 Physio Sessions");
  await expect(card.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "7");
  await manager.evaluate(() => ((window as unknown as { marker: string }).marker = "no reload"));

  const desk = await signedIn("staff", "/today");
  const row = desk.getByTestId("appointment").filter({ hasText: "Ana Silva" });
  await expect(row).toContainText("Booked");
  await row.getByRole("button", { name: "Check in" }).click();
  await expect(row).toContainText("Checked in");
  await expect(row).toContainText("Session 4 used");

  await expect(card.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "6", { timeout: 2000 });
  await expect(card.getByTestId("used-summary")).toHaveText("4/10 sessions used", { timeout: 2000 });
  await expect(card.locator(".pack-flash")).toHaveCount(1);
  expect(await manager.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe("no reload");
  await shot(desk, "04-today-after-check-in");
  await desk.setViewportSize({ width: 820, height: 1180 });
  await shot(desk, "04b-today-tablet");
  await shot(manager, "05-board-live-update");

  await manager.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Activity" }).click();
  await expect(manager.getByTestId("activity-feed")).toContainText("Session 4 of 10 used");
  await shot(manager, "06-activity");
});

test("a manager corrects with a reason; staff are not offered corrections", async ({ signedIn }) => {
  const manager = await signedIn("manager");
  await packCard(manager, "Jack Robinson", "10 Physio Sessions")
    .getByRole("link", { name: "10 Physio Sessions" })
    .click();
  await expect(manager.getByRole("heading", { name: "History" })).toBeVisible();
  const before = await manager.getByTestId("used-summary").textContent();
  expect(before).toBe("4/10 sessions used");

  await manager.getByLabel(/Reason.*Correction/).fill("Paper card session from March");
  await manager.getByRole("button", { name: "Mark used: Physio" }).click();
  await expect(manager.getByTestId("history")).toContainText("Correction: Paper card session from March");
  await expect(manager.getByTestId("used-summary")).toHaveText("5/10 sessions used");
  await expect(manager.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "5");
  await shot(manager, "07-detail-manager");
  await manager.setViewportSize({ width: 820, height: 1180 });
  await shot(manager, "07b-detail-manager-tablet");

  const desk = await signedIn("staff", new URL(manager.url()).pathname);
  await expect(desk.getByTestId("history")).toContainText("Correction: Paper card session from March");
  await expect(desk.getByRole("heading", { name: "Session correction" })).toHaveCount(0);
  await expect(desk.getByRole("button", { name: /Mark used|Give back/ })).toHaveCount(0);
  await expect(desk.getByRole("button", { name: /Change expiry|Cancel pack|Delete pack/ })).toHaveCount(0);
  await expect(desk.getByRole("heading", { name: "Record payment" })).toBeVisible();
  await shot(desk, "08-detail-staff");
});

test("a partial payment turns the badge Partial, a second one Paid", async ({ signedIn }) => {
  const desk = await signedIn("staff");
  await packCard(desk, "Jack Robinson", "10 Physio Sessions")
    .getByRole("link", { name: "10 Physio Sessions" })
    .click();
  const badge = desk.getByTestId("pack-card").getByTestId("payment-badge");
  await expect(badge).toHaveText("Unpaid");
  await desk.getByLabel("Amount").fill("400");
  await desk.getByRole("button", { name: "Record payment" }).click();
  await expect(badge).toHaveText("Partial");
  await expect(desk.getByTestId("history")).toContainText("Payment $400.00");
  // The amount field now offers the rest of the balance.
  await expect(desk.getByLabel("Amount")).toHaveValue("450.00");
  await desk.getByRole("button", { name: "Record payment" }).click();
  await expect(badge).toHaveText("Paid");
  await expect(desk.getByTestId("history")).toContainText("Payment $450.00");
});

test("a manager refunds part of a payment with a reason; the badge and history follow", async ({
  signedIn,
}) => {
  const manager = await signedIn("manager");
  await packCard(manager, "Ana Silva", "10 Physio Sessions")
    .getByRole("link", { name: "10 Physio Sessions" })
    .click();
  const badge = manager.getByTestId("pack-card").getByTestId("payment-badge");
  await expect(badge).toHaveText("Paid");
  const refund = manager.getByRole("form", { name: "Refund" });
  await refund.getByLabel("Amount").fill("85");
  await refund.getByLabel("Method").selectOption("CASH");
  await refund.getByLabel("Reason").fill("Goodwill: session cut short");
  await refund.getByRole("button", { name: "Refund" }).click();
  await expect(refund.getByRole("status")).toContainText("Refund of $85.00 recorded");
  await expect(badge).toHaveText("Partial");
  await expect(manager.getByTestId("history")).toContainText("Refund $85.00");
  await expect(manager.getByTestId("history")).toContainText("Cash · Goodwill: session cut short");
  await shot(manager, "08b-refund");
  // More than was paid is refused with the server's explanation.
  await refund.getByLabel("Amount").fill("100000");
  await refund.getByLabel("Reason").fill("typo");
  await refund.getByRole("button", { name: "Refund" }).click();
  await expect(refund.getByRole("alert")).toBeVisible();
});

test("change and remove an expiry; filter packs expiring within 30 days", async ({ signedIn }) => {
  const manager = await signedIn("manager", "/?expiring=30");
  // Isla's and Kiara's packs run out within a month; Ana's has most of a year left.
  await expect(packCard(manager, "Isla Martin", "8 Visits: Physio or Massage")).toBeVisible();
  await expect(packCard(manager, "Kiara Singh", "Pilates Class Pass")).toBeVisible();
  await expect(manager.getByTestId("pack-card").filter({ hasText: "Ana Silva" })).toHaveCount(0);
  await expect(manager.getByTestId("pack-card").filter({ hasText: "Ben Carter" })).toHaveCount(0);
  await shot(manager, "09-board-expiring-30-days");

  await manager.goto("/");
  await packCard(manager, "Ana Silva", "10 Physio Sessions")
    .getByRole("link", { name: "10 Physio Sessions" })
    .click();
  const soon = new Date(Date.now() + 20 * 86_400_000);
  const iso = soon.toLocaleDateString("en-CA", { timeZone: "Australia/Sydney" });
  await manager.getByLabel("New expiry date").fill(iso);
  await manager.getByRole("button", { name: "Change expiry" }).click();
  await expect(manager.getByTestId("pack-card")).toContainText("in 20 days");

  await manager.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Packs" }).click();
  await manager.getByLabel("Expiring within").selectOption("30");
  await expect(packCard(manager, "Ana Silva", "10 Physio Sessions")).toBeVisible();
  await expect(manager).toHaveURL(/expiring=30/);

  await packCard(manager, "Ana Silva", "10 Physio Sessions")
    .getByRole("link", { name: "10 Physio Sessions" })
    .click();
  await manager.getByRole("button", { name: "Remove expiry" }).click();
  await expect(manager.getByTestId("pack-card")).toContainText("Never");
  await expect(manager.getByRole("status").filter({ hasText: "never expires" })).toBeVisible();

  await manager.goBack();
  await expect(manager).toHaveURL(/expiring=30/);
  await manager.reload();
  await expect(packCard(manager, "Isla Martin", "8 Visits: Physio or Massage")).toBeVisible();
  await expect(manager.getByTestId("pack-card").filter({ hasText: "Ana Silva" })).toHaveCount(0);
});

test("deleting a pack with invoices shows the server's explanation", async ({ signedIn }) => {
  const owner = await signedIn("owner");
  await packCard(owner, "Ben Carter", "5 Physio + 5 Massage")
    .getByRole("link", { name: "5 Physio + 5 Massage" })
    .click();
  await owner.getByRole("button", { name: "Delete pack…" }).click();
  await owner.getByRole("button", { name: "Delete pack", exact: true }).click();
  await expect(owner.getByRole("alert")).toContainText(/INV-/);
  await expect(owner).toHaveURL(/\/packs\//);
});

test("a pack sold at one desk appears on another's board", async ({ signedIn }) => {
  const manager = await signedIn("manager");
  const desk = await signedIn("staff", "/clients");
  await desk.getByPlaceholder("Search by name, email or phone").fill("Liam");
  await desk.getByRole("link", { name: /Liam O'Brien/ }).click();
  await expect(desk.getByRole("heading", { name: "Liam O'Brien" })).toBeVisible();
  await desk.getByRole("button", { name: "Sell a pack" }).click();
  await desk.getByRole("combobox", { name: /^Pack/ }).selectOption({ label: "Pilates Class Pass · $350.00" });
  await shot(desk, "10-client-sell-pack");
  await desk.getByRole("button", { name: "Sell pack" }).click();
  await expect(desk.getByTestId("pack-card").filter({ hasText: "Pilates Class Pass" })).toBeVisible();
  await expect(packCard(manager, "Liam O'Brien", "Pilates Class Pass")).toBeVisible({ timeout: 2000 });
  await expect(
    packCard(manager, "Liam O'Brien", "Pilates Class Pass").getByTestId("payment-badge"),
  ).toHaveText("Unpaid");

  await desk.getByRole("tab", { name: "Appointments" }).click();
  await expect(desk.getByTestId("appointment").first()).toBeVisible();
  await shot(desk, "11-client-appointments");
  await desk.getByRole("tab", { name: "Invoices" }).click();
  await expect(desk.getByRole("heading", { name: /Invoice INV-/ }).first()).toBeVisible();
  await shot(desk, "12-client-invoices");
});

test("on the client's invoices a line is unallocated and allocated again", async ({ signedIn }) => {
  const owner = await signedIn("owner", "/clients");
  await owner.getByPlaceholder("Search by name, email or phone").fill("Ana");
  await owner.getByRole("link", { name: /Ana Silva/ }).click();
  const card = owner.getByTestId("pack-card");
  await expect(card.getByTestId("used-summary")).toHaveText("4/10 sessions used");
  await owner.getByRole("tab", { name: "Invoices" }).click();
  const line = owner.getByRole("row").filter({ hasText: "session 1" });
  await line.getByRole("button", { name: /Remove 10 Physio Sessions/ }).click();
  const freed = owner
    .getByRole("row")
    .filter({ has: owner.getByRole("combobox", { name: "Pack to allocate" }) });
  await expect(freed).toHaveCount(1);
  await shot(owner, "14-client-invoices-unallocated");
  await owner.getByRole("tab", { name: "Packs" }).click();
  await expect(card.getByTestId("used-summary")).toHaveText("3/10 sessions used");

  await owner.getByRole("tab", { name: "Invoices" }).click();
  await freed
    .getByRole("combobox", { name: "Pack to allocate" })
    .selectOption({ label: "10 Physio Sessions" });
  await freed.getByRole("button", { name: "Allocate" }).click();
  await expect(owner.getByRole("combobox", { name: "Pack to allocate" })).toHaveCount(0);
  await owner.getByRole("tab", { name: "Packs" }).click();
  await expect(card.getByTestId("used-summary")).toHaveText("4/10 sessions used");
});

test("a manager voids a visit charged by mistake, then its invoice; staff cannot void", async ({
  signedIn,
}) => {
  const desk = await signedIn("staff", "/clients");
  await desk.getByPlaceholder("Search by name, email or phone").fill("David");
  await desk.getByRole("link", { name: /David Okafor/ }).click();
  await desk.getByRole("tab", { name: "Invoices" }).click();
  await expect(desk.getByRole("heading", { name: /Invoice INV-/ }).first()).toBeVisible();
  await expect(desk.getByRole("button", { name: /^Void/ })).toHaveCount(0);

  const manager = await signedIn("manager", "/clients");
  await manager.getByPlaceholder("Search by name, email or phone").fill("David");
  await manager.getByRole("link", { name: /David Okafor/ }).click();
  const card = manager.getByTestId("pack-card");
  await expect(card.getByTestId("used-summary")).toHaveText("3.25/10 hours used");
  await manager.getByRole("tab", { name: "Invoices" }).click();
  // The region of the last visit's invoice, by its number: voiding takes the pack off the line.
  const last = manager.getByRole("region", { name: /Invoice INV-/ }).filter({ hasText: "session 3" });
  const number = (await last.getByRole("heading").textContent()) ?? "";
  const visit = manager.getByRole("region", { name: number });
  await visit.getByRole("button", { name: "Void Massage 90" }).click();
  const form = visit.getByRole("form", { name: "Void Massage 90" });
  await expect(form).toContainText("what it used goes back to 10 Hours of Therapy");
  await form.getByRole("button", { name: "Void line" }).click();
  await expect(form.getByRole("alert")).toContainText("Enter why");
  await form.getByLabel("Reason").fill("Booked in error: the client cancelled by phone");
  await form.getByRole("button", { name: "Void line" }).click();
  await expect(visit.getByText("Void: Booked in error: the client cancelled by phone")).toBeVisible();
  await expect(visit.getByRole("button", { name: "Void Massage 90" })).toHaveCount(0);
  await shot(manager, "14b-invoice-line-voided");

  // The invoice now charges nothing: the manager voids it whole.
  await visit.getByRole("button", { name: "Void invoice…" }).click();
  const voidInvoice = visit.getByRole("form", { name: /^Void invoice/ });
  await voidInvoice.getByLabel("Reason").fill("Entered twice");
  await voidInvoice.getByRole("button", { name: "Void invoice" }).click();
  await expect(visit.getByText("Voided: Entered twice")).toBeVisible();
  await expect(visit.getByText("Void", { exact: true })).toBeVisible();
  await manager.getByRole("tab", { name: "Packs" }).click();
  await expect(card.getByTestId("used-summary")).toHaveText("1.75/10 hours used");
  // The staff's open profile got the change live.
  await desk.getByRole("tab", { name: "Packs" }).click();
  await expect(desk.getByTestId("pack-card").getByTestId("used-summary")).toHaveText("1.75/10 hours used");
});

test("a manager refunds part of a client's credit; the desk pays an invoice with the rest", async ({
  signedIn,
}) => {
  // Liam paid for an assessment that was then cancelled: the money is his credit.
  const desk = await signedIn("staff", "/clients");
  await desk.getByPlaceholder("Search by name, email or phone").fill("Liam");
  await desk.getByRole("link", { name: /Liam O'Brien/ }).click();
  const deskCredit = desk.getByRole("region", { name: "Client credit" });
  await expect(deskCredit.getByLabel("Credit balance")).toHaveText("$120.00");
  await expect(deskCredit).toContainText("Moved to client credit: appointment cancelled");
  await expect(deskCredit.getByRole("button", { name: "Refund credit…" })).toHaveCount(0);

  const manager = await signedIn("manager", "/clients");
  await manager.getByPlaceholder("Search by name, email or phone").fill("Liam");
  await manager.getByRole("link", { name: /Liam O'Brien/ }).click();
  const credit = manager.getByRole("region", { name: "Client credit" });
  await credit.getByRole("button", { name: "Refund credit…" }).click();
  const form = credit.getByRole("form", { name: "Refund client credit" });
  await form.getByLabel("Amount").fill("20");
  await form.getByLabel("Method").selectOption({ label: "Cash" });
  await form.getByRole("button", { name: "Refund credit" }).click();
  await expect(form.getByRole("alert")).toContainText("Enter why");
  await form.getByLabel("Reason").fill("Part given back at the desk");
  await form.getByRole("button", { name: "Refund credit" }).click();
  await expect(credit.getByLabel("Credit balance")).toHaveText("$100.00");
  await expect(credit).toContainText("Given back cash: Part given back at the desk");
  await shot(manager, "15-client-credit-refunded");

  // The desk sells a pass and pays what the credit covers.
  await desk.reload();
  await expect(deskCredit.getByLabel("Credit balance")).toHaveText("$100.00");
  await desk.getByRole("button", { name: "Sell a pack" }).click();
  await desk.getByRole("combobox", { name: /^Pack/ }).selectOption({ label: "Pilates Class Pass · $350.00" });
  await desk.getByRole("button", { name: "Sell pack" }).click();
  const pass = desk.getByTestId("pack-card").filter({ hasText: "Pilates Class Pass" }).first();
  await expect(pass.getByTestId("payment-badge")).toHaveText("Unpaid");
  await desk.getByRole("tab", { name: "Invoices" }).click();
  const invoice = desk
    .getByRole("region", { name: /Invoice INV-/ })
    .filter({ hasText: "Pilates Class Pass" })
    .first();
  await invoice.getByRole("button", { name: "Pay $100.00 from credit" }).click();
  await expect(invoice).toContainText("$250.00 due");
  await expect(invoice).toContainText("Paid from client credit");
  await expect(deskCredit.getByLabel("Credit balance")).toHaveText("$0.00");
  await shot(desk, "16-invoice-paid-from-credit");
  await desk.getByRole("tab", { name: "Packs" }).click();
  await expect(pass.getByTestId("payment-badge")).toHaveText("Partial");
});

test("after a server restart the dashboard reconnects and shows what happened meanwhile", async ({
  signedIn,
  server,
}) => {
  const manager = await signedIn("manager");
  const card = packCard(manager, "Ben Carter", "5 Physio + 5 Massage");
  await expect(card.getByTestId("payment-badge")).toHaveText("Partial");
  const packId = await card.getAttribute("data-pack-id");
  const pay = async (url: string, amount: number) => {
    const token = await loginToken(url, "manager@demo.test");
    const data = await graphql<{ recordPayment: { userErrors: { message: string }[] } }>(
      url,
      "mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { userErrors { message } } }",
      { input: { packId, amount, method: "CARD" } },
      token,
    );
    expect(data.recordPayment.userErrors).toEqual([]);
  };

  // An event the page receives live, so it holds a cursor to resume from.
  await pay(server.url, 100_00);
  await expect(card).toContainText("Due $400.00");
  await manager.evaluate(() => ((window as unknown as { marker: string }).marker = "no reload"));
  let boardReloads = 0;
  manager.on("request", (request) => {
    if (request.method() === "POST" && request.postData()?.includes("PackBoard")) boardReloads++;
  });

  await server.stop();
  await expect(manager.getByTestId("connection-state")).toHaveText(/Reconnecting|Offline/);
  await shot(manager, "13-board-reconnecting");

  // Committed while the dashboard's server is down, through a second server on the same database.
  await server.withSidecar((url) => pay(url, 400_00));

  await server.start();
  await expect(manager.getByTestId("connection-state")).toHaveText("Live", { timeout: 15_000 });
  await expect(card.getByTestId("payment-badge")).toHaveText("Paid", { timeout: 5000 });
  await expect(card).not.toContainText("Due");
  // Replayed from the cursor: the board was not reloaded, and the page was not either.
  expect(boardReloads).toBe(0);
  expect(await manager.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe("no reload");
});
