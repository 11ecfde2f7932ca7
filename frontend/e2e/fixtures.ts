import { test as base, expect, type Browser, type Page } from "@playwright/test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { PackgraphServer, REPO } from "./server";

export const SCREENSHOTS = join(REPO, "test-results/screenshots");

export const LOGINS = {
  owner: "owner@demo.test",
  manager: "manager@demo.test",
  staff: "staff@demo.test",
} as const;

type Role = keyof typeof LOGINS;

interface WorkerFixtures {
  server: PackgraphServer;
}

interface TestFixtures {
  /** Opens a new browser context signed in as `role` at `path`. */
  signedIn: (
    role: Role,
    path?: string,
    options?: { viewport?: { width: number; height: number } },
  ) => Promise<Page>;
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  server: [
    async ({}, use) => {
      const server = await PackgraphServer.create();
      await server.start();
      await use(server);
      await server.dispose();
    },
    { scope: "worker", timeout: 120_000 },
  ],
  signedIn: async ({ browser, server }, use) => {
    const contexts: Awaited<ReturnType<Browser["newContext"]>>[] = [];
    await use(async (role, path = "/", options) => {
      const context = await browser.newContext({ baseURL: server.url, viewport: options?.viewport });
      contexts.push(context);
      const page = await context.newPage();
      await page.goto("/");
      await signIn(page, role);
      if (path !== "/") await page.goto(path);
      await expect(page.getByTestId("connection-state")).toHaveText("Live", { timeout: 10_000 });
      return page;
    });
    for (const context of contexts) await context.close();
  },
});

export async function signIn(page: Page, role: Role): Promise<void> {
  await page.getByLabel("Email").fill(LOGINS[role]);
  await page.getByLabel("Password").fill("demo");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("whoami")).toBeVisible();
}

/** A full-page screenshot under test-results/screenshots/ for review. */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  // Let highlights and bar animations settle so the picture shows the resting state.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** The board card of the pack named `pack` for client `client`. */
export function packCard(page: Page, client: string, pack: string) {
  return page
    .getByTestId("pack-card")
    .filter({ has: page.getByRole("heading", { name: pack }) })
    .filter({ hasText: client });
}

export { expect };
