import { useCallback, useEffect, useRef, useState } from "react";
import { useMutation, useQuery } from "urql";
import {
  CompleteTaskDocument,
  OpenTaskCountDocument,
  TasksDocument,
  type TaskFieldsFragment,
  type TaskKind,
} from "../../gql/graphql";
import { daysUntil, formatAmount, formatDate, formatDateTime, relativeDays } from "../../lib/format";
import { Link, useRouter } from "../../lib/router";
import { useCanManage, useLocale } from "../../lib/session";
import { PageHeader } from "../../ui/Page";
import { ErrorList, type UserErrorLike } from "../../ui/UserErrors";
import { useDebounced, useOnResume } from "../live/LiveContext";
import { notifyTasksChanged, useTasksChanged } from "./taskSignals";

const PAGE_SIZE = 50;

export const TASK_KIND_LABEL: Record<TaskKind, string> = {
  PACK_USED_UP: "Pack used up",
  PACK_EXPIRED: "Pack expired",
  PACK_EXPIRING_SOON: "Expiring soon",
};

/** What the desk should do about a task, from the pack as it is now. */
export function taskAdvice(
  task: TaskFieldsFragment,
  locale: { currency: string; timezone: string },
  canManage: boolean,
  now: Date = new Date(),
): string {
  const pack = task.pack;
  if (!pack) return "The pack was deleted: nothing left to do.";
  const remaining = pack.items.reduce((sum, item) => sum + item.remaining, 0);
  const left = formatAmount(remaining, pack.metric, locale.currency);
  switch (task.kind) {
    case "PACK_USED_UP":
      return pack.status === "FULLY_USED"
        ? "Everything on this pack has been used. Offer the client a new pack."
        : `Used up, then given back: ${left} left now. Check with the client whether they still need a new pack.`;
    case "PACK_EXPIRED": {
      const when = pack.expiresAt ? ` on ${formatDate(pack.expiresAt, locale.timezone)}` : "";
      const extend = canManage ? "extend the expiry on the pack page" : "ask a manager to extend it";
      return `Expired${when} with ${left} unused. Offer a new pack, or ${extend}.`;
    }
    case "PACK_EXPIRING_SOON": {
      if (!pack.expiresAt) return `The expiry was removed: ${left} left, no need to hurry.`;
      const days = daysUntil(pack.expiresAt, locale.timezone, now);
      const when = `${formatDate(pack.expiresAt, locale.timezone)} (${relativeDays(days)})`;
      return days < 0
        ? `Expired ${when} with ${left} unused.`
        : `Expires ${when} with ${left} left. Remind the client to book their remaining visits.`;
    }
  }
}

/** Follow-ups the system raised: packs used up, expired or about to expire. */
export function Tasks() {
  const { search, navigate } = useRouter();
  const showDone = new URLSearchParams(search).get("done") === "1";
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [generation, setGeneration] = useState(0);
  // Tasks completed here, from the mutation's payload (shown done, or hidden, at once).
  const [completed, setCompleted] = useState<ReadonlyMap<string, TaskFieldsFragment>>(new Map());
  const [count, recount] = useQuery({ query: OpenTaskCountDocument });
  useRefetchOn(generation, recount);
  const open = count.data?.tasks.totalCount;

  useEffect(() => setCursors([null]), [showDone]);
  const reload = useDebounced(() => setGeneration((g) => g + 1), 300);
  useTasksChanged(reload);
  useOnResume(() => reload());

  const onCompleted = useCallback((task: TaskFieldsFragment) => {
    setCompleted((all) => new Map(all).set(task.id, task));
    notifyTasksChanged();
  }, []);

  return (
    <div className="tasks">
      <PageHeader
        title="Tasks"
        subtitle={
          open === undefined
            ? "Follow-ups raised when a pack is used up, expires or is about to expire."
            : open === 0
              ? "Nothing to follow up: every task is done."
              : `${open} open ${open === 1 ? "task" : "tasks"}: packs used up, expired or about to expire.`
        }
        actions={
          <label className="check">
            <input
              type="checkbox"
              checked={showDone}
              onChange={(e) => navigate(e.target.checked ? "/tasks?done=1" : "/tasks", { replace: true })}
            />
            Show completed tasks
          </label>
        }
      />
      <ul className="task-list" data-testid="task-list">
        {cursors.map((after, index) => (
          <TaskPage
            key={`${showDone}:${after ?? "first"}`}
            open={showDone ? null : true}
            after={after}
            generation={generation}
            completed={completed}
            hideCompleted={!showDone}
            isLast={index === cursors.length - 1}
            onMore={(cursor) => setCursors((all) => [...all, cursor])}
            onCompleted={onCompleted}
            emptyText={
              index === 0
                ? showDone
                  ? "No tasks yet. They appear when a pack is used up, expires or is about to."
                  : "No open tasks. When a pack is used up, expires or is about to, a follow-up appears here."
                : null
            }
          />
        ))}
      </ul>
    </div>
  );
}

/** Re-runs a query whenever `generation` moves on (not on the first render). */
function useRefetchOn(generation: number, reexecute: (options: { requestPolicy: "network-only" }) => void) {
  const seen = useRef(generation);
  useEffect(() => {
    if (generation === seen.current) return;
    seen.current = generation;
    reexecute({ requestPolicy: "network-only" });
  }, [generation, reexecute]);
}

function TaskPage({
  open,
  after,
  generation,
  completed,
  hideCompleted,
  isLast,
  onMore,
  onCompleted,
  emptyText,
}: {
  open: boolean | null;
  after: string | null;
  generation: number;
  completed: ReadonlyMap<string, TaskFieldsFragment>;
  hideCompleted: boolean;
  isLast: boolean;
  onMore: (cursor: string) => void;
  onCompleted: (task: TaskFieldsFragment) => void;
  emptyText: string | null;
}) {
  const [result, reexecute] = useQuery({
    query: TasksDocument,
    variables: { open, first: PAGE_SIZE, after },
  });
  useRefetchOn(generation, reexecute);

  const connection = result.data?.tasks;
  const tasks = (connection?.edges ?? [])
    .map((edge) => completed.get(edge.node.id) ?? edge.node)
    .filter((task) => !(hideCompleted && !task.isOpen));

  if (!connection) {
    return (
      <li className="task-status">
        <ErrorList error={result.error} />
        {!result.error && <p className="loading">Loading tasks…</p>}
      </li>
    );
  }
  return (
    <>
      {tasks.length === 0 && emptyText && (
        <li className="task-status">
          <div className="empty">{emptyText}</div>
        </li>
      )}
      {tasks.map((task) => (
        <TaskRow key={task.id} task={task} onCompleted={onCompleted} />
      ))}
      {isLast && connection.pageInfo.hasNextPage && connection.pageInfo.endCursor && (
        <li className="task-status">
          <button type="button" className="btn" onClick={() => onMore(connection.pageInfo.endCursor!)}>
            Show more tasks
          </button>
        </li>
      )}
    </>
  );
}

function TaskRow({
  task,
  onCompleted,
}: {
  task: TaskFieldsFragment;
  onCompleted: (task: TaskFieldsFragment) => void;
}) {
  const locale = useLocale();
  const canManage = useCanManage();
  const [errors, setErrors] = useState<readonly UserErrorLike[]>([]);
  const [state, execute] = useMutation(CompleteTaskDocument);

  async function complete() {
    const result = await execute({ input: { taskId: task.id } });
    const payload = result.data?.completeTask;
    setErrors(payload?.userErrors ?? []);
    if (payload?.task) onCompleted(payload.task);
  }

  const kind = task.kind.toLowerCase();
  return (
    <li
      className={`task task-${kind}${task.isOpen ? "" : " task-done"}`}
      data-testid="task"
      data-task-id={task.id}
    >
      <span className={`badge task-kind task-kind-${kind}`}>{TASK_KIND_LABEL[task.kind]}</span>
      <div className="task-main">
        <p className="task-who">
          {task.client ? (
            <Link to={`/clients/${task.client.id}`} className="task-client">
              {task.client.name}
            </Link>
          ) : (
            <span className="task-client">Unknown client</span>
          )}
          {task.client?.phone && <span className="task-phone"> · {task.client.phone}</span>}
        </p>
        {task.pack && (
          <p className="task-pack">
            <Link to={`/packs/${task.pack.id}`}>{task.pack.name}</Link>
          </p>
        )}
        <p className="task-advice">{taskAdvice(task, locale, canManage)}</p>
        <p className="task-meta">
          Raised {formatDateTime(task.createdAt, locale.timezone)}
          {task.doneAt &&
            ` · Done ${formatDateTime(task.doneAt, locale.timezone)}${task.doneBy ? ` by ${task.doneBy.name}` : ""}`}
        </p>
        <ErrorList userErrors={errors} error={state.error} />
      </div>
      <div className="task-actions">
        {task.isOpen ? (
          <button
            type="button"
            className="btn"
            disabled={state.fetching}
            onClick={() => void complete()}
            aria-label={`Done: ${TASK_KIND_LABEL[task.kind]}, ${task.client?.name ?? ""}`}
          >
            ✓ Done
          </button>
        ) : (
          <span className="task-done-label">Done</span>
        )}
      </div>
    </li>
  );
}
