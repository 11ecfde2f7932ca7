interface ProgressBarProps {
  /** Units remaining. */
  value: number;
  max: number;
  label: string;
  valueText: string;
  muted?: boolean;
}

/** A remaining-balance bar: full when unused, empty when used up. Width animates on change. */
export function ProgressBar({ value, max, label, valueText, muted }: ProgressBarProps) {
  const ratio = max > 0 ? Math.min(1, Math.max(0, value / max)) : 0;
  const tone = muted ? "muted" : ratio === 0 ? "empty" : ratio <= 0.2 ? "low" : "ok";
  return (
    <div
      className={`progress progress-${tone}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={max}
      aria-valuenow={value}
      aria-valuetext={valueText}
    >
      <div className="progress-fill" style={{ width: `${ratio * 100}%` }} />
    </div>
  );
}
