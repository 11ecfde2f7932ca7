import { useConnectionStatus, useLive } from "./LiveContext";
import type { ConnectionStatus } from "./liveConnection";

const LABEL: Record<ConnectionStatus, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};

const TITLE: Record<ConnectionStatus, string> = {
  connecting: "Connecting to live updates",
  live: "Live: changes made anywhere appear here within a second",
  reconnecting: "Connection lost: reconnecting. Nothing is missed; changes appear once back.",
  offline: "Offline: still retrying. Changes made meanwhile appear once back.",
};

/** Always visible in the header: whether this screen is receiving live changes. */
export function ConnectionIndicator() {
  const status = useConnectionStatus();
  const live = useLive();
  return (
    <div className="connection" data-state={status}>
      <span
        className={`connection-pill connection-${status}`}
        role="status"
        aria-live="polite"
        title={TITLE[status]}
        data-testid="connection-state"
      >
        <span className="connection-dot" aria-hidden="true" />
        {LABEL[status]}
      </span>
      {status === "offline" && (
        <button type="button" className="btn btn-small" onClick={() => live.retryNow()}>
          Retry now
        </button>
      )}
    </div>
  );
}
