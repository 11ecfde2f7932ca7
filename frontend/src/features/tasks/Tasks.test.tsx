import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { TaskFieldsFragment } from "../../gql/graphql";
import { viewerFixture } from "../../test/fixtures";
import { mockClient, renderWith } from "../../test/render";
import { taskAdvice, Tasks } from "./Tasks";

function task(overrides: Partial<TaskFieldsFragment> = {}): TaskFieldsFragment {
  return {
    id: "task-1",
    kind: "PACK_USED_UP",
    createdAt: "2025-05-01T00:00:00Z",
    doneAt: null,
    isOpen: true,
    doneBy: null,
    client: { id: "client-3", name: "Chloe Nguyen", phone: "0412 555 103" },
    pack: {
      id: "pack-3",
      name: "8 Visits: Physio or Massage",
      metric: "SESSIONS",
      status: "FULLY_USED",
      expiresAt: "2025-09-01T13:59:59Z",
      items: [{ id: "item-3", allowance: 8, remaining: 0 }],
    },
    ...overrides,
  };
}

const EXPIRING = task({
  id: "task-2",
  kind: "PACK_EXPIRING_SOON",
  client: { id: "client-9", name: "Isla Martin", phone: "" },
  pack: {
    id: "pack-9",
    name: "8 Visits: Physio or Massage",
    metric: "SESSIONS",
    status: "ACTIVE",
    // Nine days from now: the list shows it as still to come.
    expiresAt: new Date(Date.now() + 9 * 86_400_000).toISOString(),
    items: [{ id: "item-9", allowance: 8, remaining: 5 }],
  },
});

const DONE = task({
  id: "task-0",
  kind: "PACK_EXPIRED",
  isOpen: false,
  doneAt: "2025-04-20T00:00:00Z",
  doneBy: { id: "staff-1", name: "Sam Patel" },
  client: { id: "client-7", name: "George Wilson", phone: "" },
});

function connection(tasks: TaskFieldsFragment[]) {
  return {
    tasks: {
      totalCount: tasks.length,
      pageInfo: { hasNextPage: false, endCursor: null },
      edges: tasks.map((node) => ({ node })),
    },
  };
}

function renderTasks(path = "/tasks") {
  const store = { open: [task(), EXPIRING], done: [DONE] };
  const queries: Record<string, unknown>[] = [];
  const { client, executeMutation } = mockClient(
    (name, variables) => {
      if (name === "OpenTaskCount") return { tasks: { totalCount: store.open.length } };
      if (name !== "Tasks") return null;
      queries.push(variables);
      return connection(variables.open === true ? store.open : [...store.open, ...store.done]);
    },
    (name, variables) => {
      if (name !== "CompleteTask") return null;
      const id = (variables.input as { taskId: string }).taskId;
      const completed = store.open.find((t) => t.id === id)!;
      store.open = store.open.filter((t) => t.id !== id);
      const done = {
        ...completed,
        isOpen: false,
        doneAt: "2025-05-02T00:00:00Z",
        doneBy: { id: "s", name: "Mia Manager" },
      };
      store.done = [done, ...store.done];
      return { completeTask: { task: done, userErrors: [] } };
    },
  );
  renderWith(<Tasks />, { client, viewer: viewerFixture("STAFF"), path });
  return { executeMutation, queries };
}

describe("Tasks", () => {
  it("lists open tasks in plain words, with the client and pack linked", () => {
    const { queries } = renderTasks();
    expect(queries[0]).toMatchObject({ open: true });
    const rows = screen.getAllByTestId("task");
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent("Pack used up");
    expect(rows[0]).toHaveTextContent("0412 555 103");
    expect(within(rows[0]).getByRole("link", { name: "Chloe Nguyen" })).toHaveAttribute(
      "href",
      "/clients/client-3",
    );
    expect(within(rows[0]).getByRole("link", { name: "8 Visits: Physio or Massage" })).toHaveAttribute(
      "href",
      "/packs/pack-3",
    );
    expect(rows[1]).toHaveTextContent("Expiring soon");
    expect(rows[1]).toHaveTextContent("with 5 sessions left");
    expect(screen.getByText(/2 open tasks/)).toBeInTheDocument();
  });

  it("Done completes the task and takes it off the open list", async () => {
    const user = userEvent.setup();
    const { executeMutation } = renderTasks();
    const row = screen.getAllByTestId("task")[0];
    await user.click(within(row).getByRole("button", { name: /Done: Pack used up, Chloe Nguyen/ }));
    const operation = executeMutation.mock.calls[0][0] as { variables: unknown };
    expect(operation.variables).toEqual({ input: { taskId: "task-1" } });
    await waitFor(() => expect(screen.getAllByTestId("task")).toHaveLength(1));
    expect(screen.getByTestId("task")).toHaveTextContent("Isla Martin");
    await waitFor(() => expect(screen.getByText(/1 open task:/)).toBeInTheDocument());
  });

  it("shows completed tasks, who did them and when, when asked", async () => {
    const user = userEvent.setup();
    const { queries } = renderTasks();
    await user.click(screen.getByRole("checkbox", { name: "Show completed tasks" }));
    expect(window.location.search).toBe("?done=1");
    await waitFor(() => expect(screen.getAllByTestId("task")).toHaveLength(3));
    expect(queries.at(-1)).toMatchObject({ open: null });
    const done = screen.getAllByTestId("task")[2];
    expect(done).toHaveTextContent("Pack expired");
    expect(done).toHaveTextContent("by Sam Patel");
    expect(within(done).queryByRole("button")).toBeNull();
  });
});

describe("task advice", () => {
  const locale = { currency: "AUD", timezone: "Australia/Sydney" };
  it("says what to do from the pack as it is now", () => {
    expect(taskAdvice(task(), locale, false)).toBe(
      "Everything on this pack has been used. Offer the client a new pack.",
    );
    const soon = { ...EXPIRING, pack: { ...EXPIRING.pack!, expiresAt: "2025-05-10T13:59:59Z" } };
    const now = new Date("2025-05-01T00:00:00Z");
    expect(taskAdvice(soon, locale, false, now)).toMatch(
      /^Expires (10 May|May 10,) 2025 \(in 9 days\) with 5 sessions left/,
    );
    const expired = task({ kind: "PACK_EXPIRED", pack: { ...EXPIRING.pack!, status: "EXPIRED" } });
    expect(taskAdvice(expired, locale, false)).toMatch(
      /5 sessions unused. Offer a new pack, or ask a manager/,
    );
    expect(taskAdvice(expired, locale, true)).toMatch(/extend the expiry on the pack page/);
    expect(taskAdvice(task({ pack: null }), locale, false)).toMatch(/deleted/);
  });
});
