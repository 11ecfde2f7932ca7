// One urql client per signed-in session: queries and mutations over HTTP with the bearer token,
// the pack-event subscription over graphql-ws (graphql-transport-ws) on the same origin.
import { Client, fetchExchange, mapExchange, subscriptionExchange, type CombinedError } from "@urql/core";
import { pipe, subscribe, onEnd } from "wonka";
import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";
import { PackEventsDocument, type PackEventsSubscription } from "../gql/graphql";
import { LiveConnection } from "../features/live/liveConnection";

export type PackEvent = PackEventsSubscription["packEvents"];

export interface Api {
  client: Client;
  live: LiveConnection<PackEvent>;
  dispose: () => void;
}

/** The WebSocket URL of /graphql on the page's own origin. */
export function graphqlWsUrl(location: { protocol: string; host: string } = window.location): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
}

/** True when the server says the token is no longer valid (expired, revoked, logged out). */
export function isAuthError(error: CombinedError): boolean {
  const status = (error.response as Response | undefined)?.status;
  if (status === 401) return true;
  return error.graphQLErrors.some((e) => {
    const code = (e.extensions as { code?: string } | undefined)?.code;
    return code === "UNAUTHENTICATED" || /not authenticated|authentication required/i.test(e.message);
  });
}

export function createApi(token: string, onAuthLost: () => void): Api {
  let live: LiveConnection<PackEvent> | null = null;

  const ws: WsClient = createWsClient({
    url: graphqlWsUrl(),
    connectionParams: () => ({ token }),
    lazy: true,
    // LiveConnection retries itself, resuming from its cursor (see liveConnection.ts).
    retryAttempts: 0,
    keepAlive: 10_000,
    on: {
      connected: () => live?.markConnected(),
      closed: (event) => {
        if ((event as CloseEvent | undefined)?.code === 4403) onAuthLost();
      },
    },
  });

  const client = new Client({
    url: "/graphql",
    preferGetMethod: false,
    requestPolicy: "network-only",
    fetchOptions: () => ({ headers: { Authorization: `Bearer ${token}` } }),
    exchanges: [
      mapExchange({
        onError(error) {
          if (isAuthError(error)) onAuthLost();
        },
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || "" };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });

  live = new LiveConnection<PackEvent>({
    subscribe(after, handlers) {
      let stopped = false;
      const { unsubscribe } = pipe(
        client.subscription(PackEventsDocument, { after }),
        onEnd(() => {
          if (!stopped) handlers.complete();
        }),
        subscribe((result) => {
          if (result.error) handlers.error(result.error);
          else if (result.data) handlers.next(result.data.packEvents);
        }),
      );
      return () => {
        stopped = true;
        unsubscribe();
      };
    },
  });

  const onOnline = () => live?.retryNow();
  window.addEventListener("online", onOnline);

  return {
    client,
    live,
    dispose() {
      window.removeEventListener("online", onOnline);
      live?.close();
      void ws.dispose();
    },
  };
}
