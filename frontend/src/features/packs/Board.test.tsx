import { act, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { makePack, redeemed } from "../../test/fixtures";
import { fakeLive, mockClient, renderWith } from "../../test/render";
import { Board } from "./Board";

function board(
  packs = [
    makePack({ id: "p1" }),
    makePack({ id: "p2", name: "5 Massage", client: { id: "c2", name: "Ben Ho", phone: "", email: "" } }),
  ],
) {
  const { client, executeQuery } = mockClient((name) => {
    if (name === "PackBoard") {
      return {
        packs: {
          totalCount: packs.length,
          pageInfo: { hasNextPage: false, endCursor: null },
          edges: packs.map((node) => ({ cursor: node.id, node })),
        },
      };
    }
    if (name === "PackStatusCounts") {
      return {
        active: { totalCount: 2 },
        expired: { totalCount: 0 },
        fullyUsed: { totalCount: 0 },
        cancelled: { totalCount: 1 },
      };
    }
    return null;
  });
  const live = fakeLive();
  renderWith(<Board />, { client, live: live.live });
  return { executeQuery, live, packs };
}

function card(name: string) {
  return screen.getByRole("article", { name });
}

describe("Board", () => {
  it("shows the packs with counts per status", () => {
    board();
    expect(screen.getAllByTestId("pack-card")).toHaveLength(2);
    expect(within(screen.getByTestId("status-tab-ALL")).getByTestId("status-count")).toHaveTextContent("3");
    expect(within(screen.getByTestId("status-tab-CANCELLED")).getByTestId("status-count")).toHaveTextContent(
      "1",
    );
  });

  it("changes a card in place from a live event, without reloading the board", () => {
    const { executeQuery, live, packs } = board();
    const boardQueries = () =>
      executeQuery.mock.calls.filter(([op]) => JSON.stringify(op.query).includes('"PackBoard"')).length;
    const before = boardQueries();
    act(() => live.emit({ type: "SESSION_REDEEMED", pack: redeemed(packs[0]) }));
    const updated = card("10 Physio sessions");
    expect(within(updated).getByRole("progressbar")).toHaveAttribute("aria-valuenow", "6");
    expect(within(updated).getByTestId("used-summary")).toHaveTextContent("4/10 sessions used");
    expect(updated.querySelector(".pack-flash")).not.toBeNull();
    expect(card("5 Massage").querySelector(".pack-flash")).toBeNull();
    expect(boardQueries()).toBe(before);
  });

  it("adds a newly sold pack that matches the filters", () => {
    const { live } = board();
    act(() => live.emit({ type: "PACK_SOLD", pack: makePack({ id: "p3", name: "8 Pilates", version: 1 }) }));
    const cards = screen.getAllByTestId("pack-card");
    expect(cards).toHaveLength(3);
    expect(cards[0]).toHaveAccessibleName("8 Pilates");
    expect(screen.getByText(/Showing 1–3 of 3/)).toBeInTheDocument();
  });

  it("drops a deleted pack", () => {
    const { live, packs } = board();
    act(() => live.emit({ type: "PACK_DELETED", pack: { ...packs[1], version: 2 } }));
    expect(screen.getAllByTestId("pack-card")).toHaveLength(1);
  });

  it("pages forward with the end cursor and back again", async () => {
    const pages: Record<string, ReturnType<typeof makePack>[]> = {
      first: [makePack({ id: "a1", name: "Page one pack" })],
      c1: [makePack({ id: "b1", name: "Page two pack" })],
    };
    const { client, executeQuery } = mockClient((name, variables) => {
      if (name !== "PackBoard") return null;
      const after = (variables.after as string | null) ?? "first";
      return {
        packs: {
          totalCount: 30,
          pageInfo: { hasNextPage: after === "first", endCursor: after === "first" ? "c1" : "c2" },
          edges: pages[after].map((node) => ({ cursor: node.id, node })),
        },
      };
    });
    renderWith(<Board />, { client });
    expect(screen.getByRole("article", { name: "Page one pack" })).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Next →" }));
    expect(screen.getByRole("article", { name: "Page two pack" })).toBeInTheDocument();
    expect(screen.getByText(/Showing 25–25 of 30/)).toBeInTheDocument();
    const boardCalls = executeQuery.mock.calls.filter(([op]) => op.variables.first === 24);
    expect(boardCalls.at(-1)?.[0].variables.after).toBe("c1");
    await userEvent.click(screen.getByRole("button", { name: "← Previous" }));
    expect(screen.getByRole("article", { name: "Page one pack" })).toBeInTheDocument();
  });
});
