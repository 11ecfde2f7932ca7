import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { viewerFixture } from "../../test/fixtures";
import { mockClient, renderWith } from "../../test/render";
import { Reports } from "./Reports";
import { chartPoints, chartSummary, moneyTiles, otherMetrics, type Summary } from "./summary";

function summary(overrides: Partial<Summary> = {}): Summary {
  const days = Array.from({ length: 30 }, (_, i) => {
    const date = new Date(Date.UTC(2025, 3, 2 + i)).toISOString().slice(0, 10);
    return {
      date,
      redemptions: i === 29 ? 5 : i % 7 === 0 ? 2 : 0,
      sessions: i === 29 ? 4 : i % 7 === 0 ? 2 : 0,
    };
  });
  return {
    generatedAt: "2025-05-01T03:00:00Z",
    timezone: "Europe/Berlin",
    currency: "EUR",
    today: "2025-05-01",
    countsByStatus: { active: 9, expired: 1, fullyUsed: 1, cancelled: 1, total: 12 },
    outstandingBalanceDue: 275800,
    unearnedLiability: 415350,
    clientCredit: 12000,
    expiringWithin30Days: 2,
    unitsRedeemedToday: 4,
    unitsRedeemedThisMonth: 38,
    packsFullyUsedThisMonth: 1,
    redeemedToday: [
      { metric: "SESSIONS", redemptions: 4, units: 4 },
      { metric: "MINUTES", redemptions: 1, units: 90 },
      { metric: "MONEY", redemptions: 0, units: 0 },
    ],
    redeemedThisMonth: [
      { metric: "SESSIONS", redemptions: 38, units: 38 },
      { metric: "MINUTES", redemptions: 3, units: 195 },
      { metric: "MONEY", redemptions: 3, units: 35500 },
    ],
    redemptionsPerDay: days,
    ...overrides,
  };
}

describe("Reports", () => {
  function renderReports(data = summary()) {
    const { client } = mockClient((name) => (name === "PackSummary" ? { packSummary: data } : null));
    renderWith(<Reports />, { client, viewer: viewerFixture("STAFF"), path: "/reports" });
  }

  it("shows the summary tiles, money in the business currency", () => {
    renderReports();
    const value = (id: string) => within(screen.getByTestId(`tile-${id}`)).getByTestId("tile-value");
    expect(value("active")).toHaveTextContent("9");
    expect(value("expired")).toHaveTextContent("1");
    expect(value("fully-used")).toHaveTextContent("1");
    expect(value("cancelled")).toHaveTextContent("1");
    expect(value("total")).toHaveTextContent("12");
    expect(value("balance-due").textContent).toMatch(/^€2,758\.00$/);
    expect(value("unearned").textContent).toMatch(/^€4,153\.50$/);
    expect(value("client-credit").textContent).toMatch(/^€120\.00$/);
    expect(value("expiring")).toHaveTextContent("2 packs");
    expect(value("redeemed-today")).toHaveTextContent("4 sessions");
    expect(screen.getByTestId("tile-redeemed-today")).toHaveTextContent("Also 1.5 hours.");
    expect(value("redeemed-month")).toHaveTextContent("38 sessions");
    expect(screen.getByTestId("tile-redeemed-month")).toHaveTextContent(
      "Also 3.25 hours and €355.00 of credit.",
    );
    expect(value("fully-used-month")).toHaveTextContent("1 pack");
    // Tiles open the board filtered to what they count.
    expect(within(screen.getByTestId("tile-expiring")).getByRole("link")).toHaveAttribute(
      "href",
      "/?expiring=30",
    );
    expect(within(screen.getByTestId("tile-balance-due")).getByRole("link")).toHaveAttribute(
      "href",
      "/?due=1",
    );
    expect(screen.getByText(/money in EUR · days in Europe\/Berlin time/)).toBeInTheDocument();
  });

  it("draws the redemptions chart with the charting library, and has the figures as a table", async () => {
    renderReports();
    const chart = await screen.findByTestId("redemptions-chart");
    expect(chart.querySelector("svg.recharts-surface")).not.toBeNull();
    await waitFor(() => expect(chart.querySelectorAll(".recharts-bar-rectangle").length).toBeGreaterThan(0));
    expect(screen.getByTestId("chart-summary")).toHaveTextContent(
      "15 visits deducted from packs in the last 30 days; busiest day",
    );
    const rows = within(screen.getByRole("table")).getAllByRole("row");
    expect(rows).toHaveLength(31);
    expect(rows[1]).toHaveTextContent(/^Thu (1 May|May 1,) 2025\s*54$/);
  });
});

describe("report figures", () => {
  it("labels the chart's days without shifting them by a timezone", () => {
    const points = chartPoints([
      { date: "2025-05-01", redemptions: 3, sessions: 2 },
      { date: "2025-05-02", redemptions: 0, sessions: 0 },
    ]);
    expect(points.map((p) => p.date)).toEqual(["2025-05-01", "2025-05-02"]);
    expect(points[0].label).toMatch(/^(1 May|May 1)$/);
    expect(points[0].long).toMatch(/^Thu /);
    expect(chartSummary(points)).toMatch(/^3 visits deducted .* busiest day Thu .*\(3\)\.$/);
    expect(chartSummary(chartPoints([{ date: "2025-05-01", redemptions: 0, sessions: 0 }]))).toBe(
      "No visits were deducted from packs in the last 30 days.",
    );
  });

  it("formats money as exact minor units of the summary's currency", () => {
    const tiles = moneyTiles(summary({ currency: "JPY", outstandingBalanceDue: 1500, unearnedLiability: 0 }));
    expect(tiles[0].value).toMatch(/^¥1,500$/);
    expect(tiles[1].value).toMatch(/^¥0$/);
    expect(otherMetrics([{ metric: "SESSIONS", redemptions: 1, units: 1 }], "USD")).toBeNull();
  });
});
