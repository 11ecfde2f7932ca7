import { useQuery } from "urql";
import { OpenTaskCountDocument } from "../../gql/graphql";
import { useDebounced, useOnResume } from "../live/LiveContext";
import { useTasksChanged } from "./taskSignals";

/** The open-task count beside "Tasks" in the navigation. */
export function OpenTaskBadge() {
  const [result, reexecute] = useQuery({ query: OpenTaskCountDocument });
  const refresh = useDebounced(() => reexecute({ requestPolicy: "network-only" }), 400);
  useTasksChanged(refresh);
  useOnResume(() => refresh());
  const open = result.data?.tasks.totalCount ?? 0;
  if (open === 0) return null;
  return (
    <span className="nav-count" data-testid="open-task-count">
      <span className="visually-hidden">, open: </span>
      {open}
    </span>
  );
}
