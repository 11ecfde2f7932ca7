import { defineConfig } from "@playwright/test";

// End-to-end tests drive Debian's chromium (no downloaded browser builds) against a real packgraph
// server on a fresh SQLite database with the demo data; the tests start and restart it themselves.
export default defineConfig({
  testDir: "e2e",
  outputDir: "../test-results/playwright",
  // One worker: the tests share one server, and some restart it.
  workers: 1,
  fullyParallel: false,
  timeout: 90_000,
  expect: { timeout: 6_000 },
  reporter: [["list"]],
  use: {
    browserName: "chromium",
    launchOptions: {
      executablePath: process.env.PACKGRAPH_CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
      ],
    },
    viewport: { width: 1440, height: 900 },
    locale: "en-AU",
    timezoneId: "Australia/Sydney",
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
  },
});
