import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LiveConnection, type LiveTransport } from "./liveConnection";

interface Event {
  cursor: string;
}

/** A transport the test drives: it records every subscription and lets the test push or fail. */
function fakeTransport() {
  const subscriptions: {
    after: string | null;
    next: (e: Event) => void;
    error: (e: unknown) => void;
    complete: () => void;
    stopped: boolean;
  }[] = [];
  const transport: LiveTransport<Event> = {
    subscribe(after, handlers) {
      const sub = { after, ...handlers, stopped: false };
      subscriptions.push(sub);
      return () => {
        sub.stopped = true;
      };
    },
  };
  return { transport, subscriptions, last: () => subscriptions[subscriptions.length - 1] };
}

describe("LiveConnection", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("goes live, then after a drop reconnects from the last cursor", () => {
    const { transport, subscriptions, last } = fakeTransport();
    const live = new LiveConnection(transport, { backoff: () => 1000 });
    const statuses: string[] = [];
    const events: string[] = [];
    live.onStatus((s) => statuses.push(s));
    live.onEvent((e) => events.push(e.cursor));
    const resumed = vi.fn();
    live.onResume(resumed);

    live.start();
    expect(live.status).toBe("connecting");
    expect(last().after).toBeNull();
    live.markConnected();
    last().next({ cursor: "c1" });
    last().next({ cursor: "c2" });

    last().error(new Error("socket closed"));
    expect(live.status).toBe("reconnecting");
    expect(subscriptions[0].stopped).toBe(true);

    vi.advanceTimersByTime(1000);
    expect(subscriptions).toHaveLength(2);
    expect(last().after).toBe("c2");
    live.markConnected();
    expect(live.status).toBe("live");
    expect(resumed).toHaveBeenCalledWith({ hadCursor: true });

    last().next({ cursor: "c3" });
    expect(events).toEqual(["c1", "c2", "c3"]);
    expect(statuses).toEqual(["live", "reconnecting", "live"]);
  });

  it("ignores late events and errors from a subscription it replaced", () => {
    const { transport, subscriptions, last } = fakeTransport();
    const live = new LiveConnection(transport, { backoff: () => 10 });
    const events: string[] = [];
    live.onEvent((e) => events.push(e.cursor));
    live.start();
    live.markConnected();
    const first = last();
    first.error("closed");
    first.error("closed again");
    first.complete();
    vi.advanceTimersByTime(10);
    expect(subscriptions).toHaveLength(2);
    first.next({ cursor: "stale" });
    expect(events).toEqual([]);
  });

  it("shows Offline after repeated failures and keeps trying", () => {
    const { transport, subscriptions, last } = fakeTransport();
    const live = new LiveConnection(transport, { backoff: () => 100, offlineAfter: 3 });
    live.start();
    live.markConnected();
    for (let i = 0; i < 3; i++) {
      last().error("down");
      vi.advanceTimersByTime(100);
    }
    expect(live.status).toBe("offline");
    expect(subscriptions).toHaveLength(4);
    live.markConnected();
    expect(live.status).toBe("live");
  });

  it("resubscribes at once when the server ends the stream", () => {
    const { transport, subscriptions, last } = fakeTransport();
    const live = new LiveConnection(transport, { backoff: () => 5000 });
    live.start();
    live.markConnected();
    last().next({ cursor: "c9" });
    last().complete();
    vi.advanceTimersByTime(0);
    expect(subscriptions).toHaveLength(2);
    expect(last().after).toBe("c9");
  });

  it("stops for good when closed", () => {
    const { transport, subscriptions, last } = fakeTransport();
    const live = new LiveConnection(transport, { backoff: () => 10 });
    live.start();
    live.close();
    expect(last().stopped).toBe(true);
    last().error("closed");
    vi.advanceTimersByTime(100);
    expect(subscriptions).toHaveLength(1);
  });
});
