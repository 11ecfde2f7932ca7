import { useEffect, useState } from "react";
import type { PackStatus, PaymentStatus } from "../../gql/graphql";
import { PAYMENT_LABEL, STATUS_LABEL } from "../../ui/Badges";
import {
  EMPTY_FILTERS,
  EXPIRY_WINDOWS,
  PAYMENT_STATUSES,
  STATUSES,
  statusSelectable,
  type BoardFilters,
} from "./boardState";

interface Props {
  filters: BoardFilters;
  counts: Record<PackStatus, number> | null;
  onChange: (filters: BoardFilters) => void;
}

/** Status tabs with counts, then search, payment, expiry window and balance-due filters. */
export function BoardFilterBar({ filters, counts, onChange }: Props) {
  const [search, setSearch] = useState(filters.search);
  useEffect(() => setSearch(filters.search), [filters.search]);
  useEffect(() => {
    if (search === filters.search) return;
    const timer = setTimeout(() => onChange({ ...filters, search }), 300);
    return () => clearTimeout(timer);
  }, [search, filters, onChange]);

  const total = counts
    ? STATUSES.filter((s) => statusSelectable(s, filters)).reduce((sum, s) => sum + counts[s], 0)
    : null;
  const active =
    filters.payment || filters.expiringWithinDays || filters.balanceDue || filters.search || filters.status;

  return (
    <section className="filters" aria-label="Filters">
      <div className="status-tabs" role="group" aria-label="Status">
        <StatusTab
          label="All"
          count={total}
          pressed={filters.status === null}
          onClick={() => onChange({ ...filters, status: null })}
        />
        {STATUSES.map((status) => {
          const selectable = statusSelectable(status, filters);
          return (
            <StatusTab
              key={status}
              status={status}
              label={STATUS_LABEL[status]}
              count={counts && selectable ? counts[status] : null}
              pressed={filters.status === status}
              disabled={!selectable}
              onClick={() => onChange({ ...filters, status })}
            />
          );
        })}
      </div>
      <div className="filter-row">
        <label className="field filter-search">
          <span className="visually-hidden">Search</span>
          <input
            type="search"
            placeholder="Search pack or client name"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter") onChange({ ...filters, search });
            }}
          />
        </label>
        <label className="field field-inline">
          <span>Payment</span>
          <select
            value={filters.payment ?? ""}
            onChange={(e) =>
              onChange({ ...filters, payment: (e.target.value || null) as PaymentStatus | null })
            }
          >
            <option value="">Any</option>
            {PAYMENT_STATUSES.map((p) => (
              <option key={p} value={p}>
                {PAYMENT_LABEL[p]}
              </option>
            ))}
          </select>
        </label>
        <label className="field field-inline">
          <span>Expiring within</span>
          <select
            value={filters.expiringWithinDays ?? ""}
            onChange={(e) => {
              const days = e.target.value ? Number(e.target.value) : null;
              // Only active packs can be expiring: a chosen Expired/Fully Used/Cancelled tab goes.
              const status = days && filters.status !== "ACTIVE" ? null : filters.status;
              onChange({ ...filters, status, expiringWithinDays: days });
            }}
          >
            <option value="">Any time</option>
            {EXPIRY_WINDOWS.map((days) => (
              <option key={days} value={days}>
                {days} days
              </option>
            ))}
          </select>
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={filters.balanceDue}
            onChange={(e) => onChange({ ...filters, balanceDue: e.target.checked })}
          />
          Balance due
        </label>
        {active && (
          <button type="button" className="btn btn-ghost btn-small" onClick={() => onChange(EMPTY_FILTERS)}>
            Clear filters
          </button>
        )}
      </div>
    </section>
  );
}

function StatusTab({
  label,
  count,
  pressed,
  onClick,
  status,
  disabled = false,
}: {
  label: string;
  count: number | null;
  pressed: boolean;
  onClick: () => void;
  status?: PackStatus;
  disabled?: boolean;
}) {
  return (
    <button
      type="button"
      className={`status-tab${status ? ` tab-${status.toLowerCase()}` : ""}`}
      aria-pressed={pressed}
      disabled={disabled}
      title={disabled ? "Expiring packs are always active" : undefined}
      onClick={onClick}
      data-testid={`status-tab-${status ?? "ALL"}`}
    >
      <span>{label}</span>
      <span className="status-count" data-testid="status-count">
        {count ?? "–"}
      </span>
    </button>
  );
}
