import { act, render } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { viewerFixture } from "../test/fixtures";
import { SessionProvider, useSession } from "./session";

describe("session", () => {
  it("a late viewer refresh does not bring back a token replaced meanwhile (sign-out, other tab)", () => {
    let value: ReturnType<typeof useSession> | null = null;
    function Probe() {
      value = useSession();
      return null;
    }
    window.localStorage.clear();
    render(
      <SessionProvider>
        <Probe />
      </SessionProvider>,
    );
    act(() => value!.signIn({ token: "pgs_first", viewer: viewerFixture("STAFF") }));
    // Another tab signs in as someone else; then this tab's viewer query answers.
    const other = JSON.stringify({ token: "pgs_other", viewer: viewerFixture("MANAGER") });
    window.localStorage.setItem("packgraph.session", other);
    act(() => value!.updateViewer({ ...viewerFixture("STAFF"), name: "Renamed" }));
    expect(window.localStorage.getItem("packgraph.session")).toBe(other);
    expect(value!.session?.viewer.name).toBe("Renamed");

    // The same session is refreshed in storage as before.
    act(() => value!.signIn({ token: "pgs_first", viewer: viewerFixture("STAFF") }));
    act(() => value!.updateViewer({ ...viewerFixture("STAFF"), name: "Sam" }));
    expect(JSON.parse(window.localStorage.getItem("packgraph.session")!).viewer.name).toBe("Sam");
  });
});
