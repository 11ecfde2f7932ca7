// The redemptions-per-day bar chart (Recharts, loaded with the Reports view only: it is the largest
// dependency of the dashboard and no other view needs it).
import {
  Bar,
  BarChart,
  CartesianGrid,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
  type TooltipContentProps,
} from "recharts";
import type { NameType, ValueType } from "recharts/types/component/DefaultTooltipContent";
import type { ChartPoint } from "./summary";

const BRAND = "#0f6b73";

function ChartTooltip({ active, payload }: TooltipContentProps<ValueType, NameType>) {
  const point = active && payload?.length ? (payload[0].payload as ChartPoint) : null;
  if (!point) return null;
  return (
    <div className="chart-tooltip">
      <p className="chart-tooltip-day">{point.long}</p>
      <p>
        {point.redemptions} {point.redemptions === 1 ? "visit" : "visits"} deducted
      </p>
      {point.sessions !== point.redemptions && (
        <p className="muted">
          {point.sessions} from session packs, {point.redemptions - point.sessions} from hour or credit packs
        </p>
      )}
    </div>
  );
}

export default function RedemptionsChart({ points }: { points: readonly ChartPoint[] }) {
  return (
    // Hidden from screen readers: the Reports view has the same figures as a table.
    <div className="chart" data-testid="redemptions-chart" aria-hidden="true">
      <ResponsiveContainer width="100%" height={280} initialDimension={{ width: 720, height: 280 }}>
        <BarChart
          data={[...points]}
          margin={{ top: 8, right: 8, bottom: 0, left: -16 }}
          accessibilityLayer={false}
        >
          <CartesianGrid vertical={false} stroke="#e3e8ee" />
          <XAxis
            dataKey="label"
            tickLine={false}
            axisLine={{ stroke: "#b9c4cf" }}
            interval="preserveStartEnd"
            minTickGap={18}
            tick={{ fill: "#55657a", fontSize: 12 }}
          />
          <YAxis
            allowDecimals={false}
            tickLine={false}
            axisLine={false}
            width={48}
            tick={{ fill: "#55657a", fontSize: 12 }}
          />
          <Tooltip content={ChartTooltip} cursor={{ fill: "rgba(15, 107, 115, 0.08)" }} />
          <Bar
            dataKey="redemptions"
            name="Visits deducted"
            fill={BRAND}
            radius={[4, 4, 0, 0]}
            maxBarSize={28}
            animationDuration={400}
          />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
