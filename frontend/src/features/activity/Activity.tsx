import { createContext, useContext, useSyncExternalStore } from "react";
import { formatTime, formatDate } from "../../lib/format";
import { Link } from "../../lib/router";
import { useLocale } from "../../lib/session";
import { PageHeader } from "../../ui/Page";
import { useConnectionStatus } from "../live/LiveContext";
import { ActivityFeed, describeEvent } from "./activityFeed";

export const ActivityFeedContext = createContext<ActivityFeed | null>(null);

function useFeed(): ActivityFeed {
  const feed = useContext(ActivityFeedContext);
  if (!feed) throw new Error("useFeed outside ActivityFeedContext");
  return feed;
}

/** Every pack event as it happens, newest first. */
export function Activity() {
  const feed = useFeed();
  const events = useSyncExternalStore(
    (listener) => feed.subscribe(listener),
    () => feed.list(),
  );
  const locale = useLocale();
  const status = useConnectionStatus();
  return (
    <div className="activity">
      <PageHeader
        title="Activity"
        subtitle={`Live changes since ${formatTime(feed.since.toISOString(), locale.timezone)}, from every desk and integration.`}
      />
      {events.length === 0 ? (
        <div className="empty">
          {status === "live"
            ? "Waiting for changes… Check-ins, payments and corrections appear here the moment they happen."
            : "Connecting to live updates…"}
        </div>
      ) : (
        <ol className="feed" data-testid="activity-feed">
          {events.map((event) => {
            const description = describeEvent(event, locale);
            return (
              <li key={event.cursor} className={`feed-item feed-${description.tone}`} data-type={event.type}>
                <time
                  className="feed-time"
                  dateTime={event.occurredAt}
                  title={formatDate(event.occurredAt, locale.timezone)}
                >
                  {formatTime(event.occurredAt, locale.timezone)}
                </time>
                <span className="feed-label">{description.label}</span>
                <div className="feed-body">
                  <p className="feed-text">{description.text}</p>
                  {event.pack && (
                    <p className="feed-meta">
                      <Link to={`/packs/${event.pack.id}`}>{event.pack.name}</Link>
                      {" · "}
                      <Link to={`/clients/${event.pack.client.id}`}>{event.pack.client.name}</Link>
                      {event.actor.name ? ` · by ${event.actor.name}` : ""}
                    </p>
                  )}
                </div>
              </li>
            );
          })}
        </ol>
      )}
    </div>
  );
}
