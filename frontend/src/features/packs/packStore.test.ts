import { describe, expect, it, vi } from "vitest";
import { makePack, redeemed } from "../../test/fixtures";
import { PackStore } from "./packStore";

describe("PackStore", () => {
  it("replaces a snapshot only with a newer version", () => {
    const store = new PackStore();
    const v1 = makePack({ id: "p" });
    const v2 = redeemed(v1);
    expect(store.merge(v2)).toBe(true);
    // A slow query result with the old version must not undo the live event.
    expect(store.merge(v1)).toBe(false);
    expect(store.get("p")?.items[0].used).toBe(4);
  });

  it("notifies the pack's listeners and marks live changes for highlighting", () => {
    const store = new PackStore();
    const v1 = makePack({ id: "p" });
    store.merge(v1);
    expect(store.changedAtOf("p")).toBe(0);
    const listener = vi.fn();
    const other = vi.fn();
    store.subscribe("p", listener);
    store.subscribe("q", other);
    store.merge(redeemed(v1), { highlight: true });
    expect(listener).toHaveBeenCalledTimes(1);
    expect(other).not.toHaveBeenCalled();
    expect(store.changedAtOf("p")).toBeGreaterThan(0);
  });

  it("ignores an identical snapshot", () => {
    const store = new PackStore();
    const v1 = makePack({ id: "p" });
    store.merge(v1);
    const listener = vi.fn();
    store.subscribe("p", listener);
    expect(store.merge({ ...v1 })).toBe(false);
    expect(listener).not.toHaveBeenCalled();
  });
});
