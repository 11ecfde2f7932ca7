// Display helpers: money in the business currency, dates in the business timezone, pack quantities
// in their metric (sessions, hours, money).
import type { Metric } from "../gql/graphql";

export interface Locale {
  currency: string;
  timezone: string;
}

const moneyFormats = new Map<string, Intl.NumberFormat>();

function moneyFormat(currency: string): Intl.NumberFormat {
  let format = moneyFormats.get(currency);
  if (!format) {
    format = new Intl.NumberFormat(undefined, { style: "currency", currency });
    moneyFormats.set(currency, format);
  }
  return format;
}

/** Minor units (cents) to "$12.50" in the business currency. */
export function formatMoney(minor: number, currency: string): string {
  const digits = moneyFormat(currency).resolvedOptions().maximumFractionDigits ?? 2;
  return moneyFormat(currency).format(minor / 10 ** digits);
}

/** "12.50" for an input field, from minor units. */
export function minorToInput(minor: number, currency: string): string {
  const digits = moneyFormat(currency).resolvedOptions().maximumFractionDigits ?? 2;
  return (minor / 10 ** digits).toFixed(digits);
}

/** Parses "12.5" / "12,50" into minor units; null when it is not a positive amount. */
export function inputToMinor(raw: string, currency: string): number | null {
  const digits = moneyFormat(currency).resolvedOptions().maximumFractionDigits ?? 2;
  const cleaned = raw
    .trim()
    .replace(/[^\d.,-]/g, "")
    .replace(",", ".");
  if (!/^\d+(\.\d*)?$/.test(cleaned)) return null;
  const value = Math.round(Number(cleaned) * 10 ** digits);
  return Number.isFinite(value) && value > 0 ? value : null;
}

const hourFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

/** A quantity in a pack's metric, without unit: "3", "2.5" (hours), "$150.00". */
export function formatQuantity(value: number, metric: Metric, currency: string): string {
  switch (metric) {
    case "MINUTES":
      return hourFormat.format(value / 60);
    case "MONEY":
      return formatMoney(value, currency);
    default:
      return String(value);
  }
}

/** A quantity with its unit: "1 session", "3 sessions", "1.5 hours", "$95.00". */
export function formatAmount(value: number, metric: Metric, currency: string): string {
  const text = formatQuantity(value, metric, currency);
  if (metric === "SESSIONS") return `${text} ${value === 1 || value === -1 ? "session" : "sessions"}`;
  if (metric === "MINUTES") return `${text} ${value === 60 || value === -60 ? "hour" : "hours"}`;
  return text;
}

/** "3/10 sessions used", "2.5/10 hours used", "$150.00/$500.00 used". */
export function usedSummary(used: number, allowance: number, metric: Metric, currency: string) {
  const u = formatQuantity(used, metric, currency);
  const a = formatQuantity(allowance, metric, currency);
  return `${u}/${a} ${unitWord(metric, allowance)}used`;
}

/** "7/10 remaining" in the pack's metric. */
export function remainingSummary(remaining: number, allowance: number, metric: Metric, currency: string) {
  const r = formatQuantity(remaining, metric, currency);
  const a = formatQuantity(allowance, metric, currency);
  return `${r}/${a} ${metric === "MINUTES" ? "hours " : ""}remaining`;
}

function unitWord(metric: Metric, allowance: number): string {
  if (metric === "SESSIONS") return allowance === 1 ? "session " : "sessions ";
  if (metric === "MINUTES") return allowance === 60 ? "hour " : "hours ";
  return "";
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

function cachedFormat(key: string, make: () => Intl.DateTimeFormat): Intl.DateTimeFormat {
  let format = dateFormats.get(key);
  if (!format) {
    format = make();
    dateFormats.set(key, format);
  }
  return format;
}

/** "3 Mar 2025" in the business timezone. */
export function formatDate(iso: string, timezone: string): string {
  return cachedFormat(
    `d:${timezone}`,
    () =>
      new Intl.DateTimeFormat(undefined, {
        day: "numeric",
        month: "short",
        year: "numeric",
        timeZone: timezone,
      }),
  ).format(new Date(iso));
}

/** "3 Mar 2025" for a calendar date ("2025-03-03") that has no time or zone. */
export function formatDay(date: string): string {
  return formatDate(`${date.slice(0, 10)}T12:00:00Z`, "UTC");
}

/** "3 Mar 2025, 14:05" in the business timezone. */
export function formatDateTime(iso: string, timezone: string): string {
  return cachedFormat(
    `dt:${timezone}`,
    () =>
      new Intl.DateTimeFormat(undefined, {
        day: "numeric",
        month: "short",
        year: "numeric",
        hour: "numeric",
        minute: "2-digit",
        timeZone: timezone,
      }),
  ).format(new Date(iso));
}

/** "14:05" in the business timezone. */
export function formatTime(iso: string, timezone: string): string {
  return cachedFormat(
    `t:${timezone}`,
    () => new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit", timeZone: timezone }),
  ).format(new Date(iso));
}

/** Whole days from now until `iso` (negative when past), counted in calendar days of the zone. */
export function daysUntil(iso: string, timezone: string, now: Date = new Date()): number {
  const a = localDate(now.toISOString(), timezone);
  const b = localDate(iso, timezone);
  return Math.round(
    (Date.UTC(b.year, b.month - 1, b.day) - Date.UTC(a.year, a.month - 1, a.day)) / 86_400_000,
  );
}

/** "in 12 days", "tomorrow", "today", "3 days ago". */
export function relativeDays(days: number): string {
  if (days === 0) return "today";
  if (days === 1) return "tomorrow";
  if (days === -1) return "yesterday";
  return days > 0 ? `in ${days} days` : `${-days} days ago`;
}

interface LocalDate {
  year: number;
  month: number;
  day: number;
}

/** The calendar date of an instant in a timezone. */
export function localDate(iso: string, timezone: string): LocalDate {
  const parts = cachedFormat(
    `p:${timezone}`,
    () =>
      new Intl.DateTimeFormat("en-US", {
        year: "numeric",
        month: "numeric",
        day: "numeric",
        timeZone: timezone,
      }),
  ).formatToParts(new Date(iso));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return { year: get("year"), month: get("month"), day: get("day") };
}

/** "2025-03-03" (for <input type="date">) of an instant in a timezone. */
export function toDateInput(iso: string, timezone: string): string {
  const { year, month, day } = localDate(iso, timezone);
  return `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/** Offset of `timezone` from UTC at an instant, in minutes (east positive). */
function zoneOffsetMinutes(instant: Date, timezone: string): number {
  const parts = cachedFormat(
    `o:${timezone}`,
    () =>
      new Intl.DateTimeFormat("en-US", {
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
        timeZone: timezone,
      }),
  ).formatToParts(instant);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(
    get("year"),
    get("month") - 1,
    get("day"),
    get("hour"),
    get("minute"),
    get("second"),
  );
  return Math.round((asUtc - Math.floor(instant.getTime() / 1000) * 1000) / 60_000);
}

/** The UTC instant of local midnight starting `date` ("2025-03-03") in `timezone`. */
export function startOfLocalDay(date: string, timezone: string): Date {
  const [year, month, day] = date.split("-").map(Number);
  const guess = Date.UTC(year, month - 1, day);
  // Two passes settle days where the offset changes (DST) around midnight.
  let instant = guess - zoneOffsetMinutes(new Date(guess), timezone) * 60_000;
  instant = guess - zoneOffsetMinutes(new Date(instant), timezone) * 60_000;
  return new Date(instant);
}

/** [start, end) of the business day containing `now`. */
export function localDayBounds(timezone: string, now: Date = new Date()): [Date, Date] {
  const today = toDateInput(now.toISOString(), timezone);
  const start = startOfLocalDay(today, timezone);
  const next = new Date(start.getTime() + 36 * 3_600_000); // safely inside the next local day
  const end = startOfLocalDay(toDateInput(next.toISOString(), timezone), timezone);
  return [start, end];
}

/** End of the local day `date` as an ISO instant: an expiry chosen as a date lasts the whole day. */
export function endOfLocalDayIso(date: string, timezone: string): string {
  const start = startOfLocalDay(date, timezone);
  const next = startOfLocalDay(
    toDateInput(new Date(start.getTime() + 36 * 3_600_000).toISOString(), timezone),
    timezone,
  );
  return new Date(next.getTime() - 1000).toISOString();
}
