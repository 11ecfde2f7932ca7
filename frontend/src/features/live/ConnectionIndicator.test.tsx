import { act, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { PackEvent } from "../../lib/api";
import { mockClient, renderWith } from "../../test/render";
import { ConnectionIndicator } from "./ConnectionIndicator";
import { LiveConnection } from "./liveConnection";

describe("ConnectionIndicator", () => {
  it("shows Connecting, Live, Reconnecting and Offline, with a retry when offline", async () => {
    const fails: ((e: unknown) => void)[] = [];
    let subscriptions = 0;
    const live = new LiveConnection<PackEvent>(
      {
        subscribe(_after, handlers) {
          subscriptions++;
          fails.push(handlers.error);
          return () => {};
        },
      },
      { backoff: () => 60_000, offlineAfter: 2 },
    );
    const { client } = mockClient(() => null);
    renderWith(<ConnectionIndicator />, { client, live });
    const state = () => screen.getByTestId("connection-state");
    act(() => live.start());
    expect(state()).toHaveTextContent("Connecting");
    act(() => live.markConnected());
    expect(state()).toHaveTextContent("Live");
    act(() => fails[0]("closed"));
    expect(state()).toHaveTextContent("Reconnecting");
    expect(screen.queryByRole("button", { name: "Retry now" })).toBeNull();
    act(() => live.retryNow());
    act(() => fails[1]("closed"));
    expect(state()).toHaveTextContent("Offline");
    await userEvent.click(screen.getByRole("button", { name: "Retry now" }));
    expect(subscriptions).toBe(3);
    act(() => live.markConnected());
    expect(state()).toHaveTextContent("Live");
    live.close();
  });
});
