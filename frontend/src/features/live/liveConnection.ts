// The dashboard's one live subscription to pack events, and its connection state.
//
// graphql-ws can retry by itself, but it would re-send the *original* subscription (with the cursor
// of page load), so events committed while the socket was down would be lost. Here the transport
// never retries; this class does, subscribing again with `after` = the last cursor it received, so
// the server replays exactly what was missed. States: connecting → live → reconnecting → live, or
// offline after repeated failures (it keeps trying, just less often).

export type ConnectionStatus = "connecting" | "live" | "reconnecting" | "offline";

export interface LiveTransport<E> {
  /** Starts a subscription from `after`; returns a function that stops it. */
  subscribe(
    after: string | null,
    handlers: { next: (event: E) => void; error: (error: unknown) => void; complete: () => void },
  ): () => void;
}

export interface LiveConnectionOptions {
  /** Delay before retry number `attempt` (1-based), in ms. */
  backoff?: (attempt: number) => number;
  /** Failed attempts in a row after which the state shows Offline. */
  offlineAfter?: number;
  isOnline?: () => boolean;
}

type StatusListener = (status: ConnectionStatus) => void;
type EventListener<E> = (event: E) => void;
type ResumeListener = (info: { hadCursor: boolean }) => void;

const defaultBackoff = (attempt: number) => Math.min(500 * 2 ** (attempt - 1), 5000);

export class LiveConnection<E extends { cursor: string }> {
  status: ConnectionStatus = "connecting";
  cursor: string | null = null;
  private generation = 0;
  /** The generation whose subscription is running, or null between attempts. */
  private active: number | null = null;
  private failures = 0;
  private everLive = false;
  private stop: (() => void) | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  private statusListeners = new Set<StatusListener>();
  private eventListeners = new Set<EventListener<E>>();
  private resumeListeners = new Set<ResumeListener>();
  private readonly backoff: (attempt: number) => number;
  private readonly offlineAfter: number;
  private readonly isOnline: () => boolean;

  constructor(
    private readonly transport: LiveTransport<E>,
    options: LiveConnectionOptions = {},
  ) {
    this.backoff = options.backoff ?? defaultBackoff;
    this.offlineAfter = options.offlineAfter ?? 6;
    this.isOnline = options.isOnline ?? (() => typeof navigator === "undefined" || navigator.onLine);
  }

  start(): void {
    this.closed = false;
    this.open();
  }

  close(): void {
    this.closed = true;
    this.generation++;
    this.active = null;
    this.clearTimer();
    this.stop?.();
    this.stop = null;
  }

  /** The transport reports its socket acknowledged (connection_ack). */
  markConnected(): void {
    if (this.closed) return;
    const resumed = this.everLive && this.status !== "live";
    this.failures = 0;
    this.everLive = true;
    this.setStatus("live");
    if (resumed) for (const listener of this.resumeListeners) listener({ hadCursor: this.cursor !== null });
  }

  /** Try now instead of waiting for the next backoff step (browser came back online, user asked). */
  retryNow(): void {
    if (this.closed || this.status === "live") return;
    this.clearTimer();
    this.open();
  }

  onStatus(listener: StatusListener): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  onEvent(listener: EventListener<E>): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Called after a reconnect, once live again; queries not covered by pack events refresh here. */
  onResume(listener: ResumeListener): () => void {
    this.resumeListeners.add(listener);
    return () => this.resumeListeners.delete(listener);
  }

  private open(): void {
    const generation = ++this.generation;
    this.stop?.();
    this.stop = null;
    this.active = generation;
    if (this.status !== "live" && this.everLive && this.status !== "offline") {
      this.setStatus("reconnecting");
    }
    const stop = this.transport.subscribe(this.cursor, {
      next: (event) => {
        if (generation !== this.active) return;
        this.cursor = event.cursor;
        for (const listener of this.eventListeners) listener(event);
      },
      error: () => this.fail(generation),
      // The server ended the stream (e.g. this subscriber fell behind): resume from the cursor.
      complete: () => this.fail(generation, { immediate: true }),
    });
    // The transport may have failed synchronously; then there is nothing left to stop.
    if (this.active === generation) this.stop = stop;
    else stop();
  }

  private fail(generation: number, options: { immediate?: boolean } = {}): void {
    if (this.closed || generation !== this.active) return;
    this.active = null;
    this.stop?.();
    this.stop = null;
    this.failures++;
    const offline = !this.isOnline() || this.failures >= this.offlineAfter;
    this.setStatus(offline ? "offline" : this.everLive ? "reconnecting" : "connecting");
    this.clearTimer();
    const delay = options.immediate && this.failures <= 1 ? 0 : this.backoff(this.failures);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.open();
    }, delay);
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private setStatus(status: ConnectionStatus): void {
    if (status === this.status) return;
    this.status = status;
    for (const listener of this.statusListeners) listener(status);
  }
}
