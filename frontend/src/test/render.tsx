import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { Provider as UrqlProvider, type Client } from "urql";
import { fromValue, never } from "wonka";
import { vi } from "vitest";
import type { ViewerFieldsFragment } from "../gql/graphql";
import type { PackEvent } from "../lib/api";
import { RouterProvider } from "../lib/router";
import { SessionProvider } from "../lib/session";
import { LiveConnection } from "../features/live/liveConnection";
import { LiveProvider } from "../features/live/LiveContext";
import { PackStore } from "../features/packs/packStore";
import { PackStoreProvider } from "../features/packs/packStoreContext";
import { viewerFixture } from "./fixtures";

type Answer = (name: string, variables: Record<string, unknown>) => unknown;

interface MockOperation {
  query: { definitions: { name?: { value: string } }[] };
  variables: Record<string, unknown>;
}

/**
 * A urql client whose queries answer from `answer(operationName, variables)`, and whose mutations
 * answer from `mutate` (never, when not given).
 */
export function mockClient(answer: Answer, mutate?: Answer) {
  const respond = (reply: Answer) => (operation: MockOperation) => {
    const name = operation.query.definitions.find((d) => d.name)?.name?.value ?? "";
    return fromValue({ operation, data: reply(name, operation.variables), stale: false, hasNext: false });
  };
  const executeQuery = vi.fn(respond(answer));
  const executeMutation = vi.fn(mutate ? respond(mutate) : () => never);
  const client = {
    executeQuery,
    executeMutation,
    executeSubscription: vi.fn(() => never),
    suspense: false,
  } as unknown as Client;
  return { client, executeQuery, executeMutation };
}

/** A live connection whose events the test pushes with `emit`. */
export function fakeLive() {
  let push: ((event: PackEvent) => void) | null = null;
  const live = new LiveConnection<PackEvent>({
    subscribe(_after, handlers) {
      push = handlers.next;
      return () => {
        push = null;
      };
    },
  });
  live.start();
  live.markConnected();
  return {
    live,
    emit(event: Partial<PackEvent> & Pick<PackEvent, "type">) {
      push?.({
        cursor: String(Math.random()),
        occurredAt: new Date().toISOString(),
        actor: { kind: "STAFF", name: "Sam Patel" },
        statusFrom: null,
        statusTo: null,
        details: {},
        pack: null,
        entry: null,
        payment: null,
        ...event,
      } as PackEvent);
    },
  };
}

export function renderWith(
  ui: ReactNode,
  options: {
    client: Client;
    live?: LiveConnection<PackEvent>;
    store?: PackStore;
    viewer?: ViewerFieldsFragment;
    path?: string;
  },
) {
  window.localStorage.setItem(
    "packgraph.session",
    JSON.stringify({ token: "t", viewer: options.viewer ?? viewerFixture() }),
  );
  window.history.replaceState(null, "", options.path ?? "/");
  const store = options.store ?? new PackStore();
  const live = options.live ?? fakeLive().live;
  // Events reach the store first, as in the app.
  live.onEvent((event) => {
    if (event.pack) store.merge(event.pack, { highlight: true });
  });
  const utils = render(
    <RouterProvider>
      <SessionProvider>
        <UrqlProvider value={options.client}>
          <LiveProvider live={live}>
            <PackStoreProvider store={store}>{ui}</PackStoreProvider>
          </LiveProvider>
        </UrqlProvider>
      </SessionProvider>
    </RouterProvider>,
  );
  return { ...utils, store };
}
