"""The results table, the machine description, and ``bench/results/<date>.md``."""

from __future__ import annotations

import math
import os
import platform
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench.stats import Spread

RESULTS_DIR = Path(__file__).resolve().parent / "results"
PACKAGES = (
    "strawberry-graphql",
    "graphql-core",
    "starlette",
    "uvicorn",
    "uvloop",
    "websockets",
    "tortoise-orm",
    "asyncpg",
    "aiosqlite",
    "broadcaster",
)


@dataclass
class Row:
    """One line of the table. ``ratio`` is the figure the target is about."""

    number: str
    measure: str
    product: str
    baseline: str
    ratio: Spread | None
    target: str
    met: bool | None
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        if self.met is None:
            return "—"
        return "met" if self.met else "MISSED"


def _ratio_text(spread: Spread | None) -> str:
    if spread is None or spread.rounds == 0 or math.isnan(spread.median):
        return "n/a"
    return spread.format(2, "×" if spread.median >= 0 else "")


def render_table(rows: list[Row]) -> str:
    lines = [
        "| # | measure | packgraph | baseline | ratio: median (min–max) | target | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.number} | {row.measure} | {row.product} | {row.baseline} | "
            f"{_ratio_text(row.ratio)} | {row.target} | {row.verdict} |"
        )
    notes = [f"- {row.number}: {note}" for row in rows for note in row.notes]
    if notes:
        lines += ["", "Notes:", *notes]
    return "\n".join(lines)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _postgres_version() -> str:
    try:
        out = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version"],
            capture_output=True,
            text=True,
            timeout=5,
        )
        return out.stdout.strip() or "unreachable"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine_description() -> list[str]:
    import sqlite3

    versions = []
    for package in PACKAGES:
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return [
        f"- CPU: {_cpu_model()}, {os.cpu_count()} cores (load average at start: {load})",
        f"- memory: {_memory()}",
        f"- OS: {platform.platform()}",
        f"- Python: {platform.python_implementation()} {platform.python_version()}",
        f"- SQLite: {sqlite3.sqlite_version}; PostgreSQL server: {_postgres_version()}",
        f"- packages: {', '.join(versions)}",
    ]


def write_results(
    rows: list[Row], *, mode: str, settings: list[str], started: datetime, extra: list[str]
) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y-%m-%d")
    path = RESULTS_DIR / f"{stamp}.md"
    if mode != "full":
        path = RESULTS_DIR / f"{stamp}-{mode}.md"
    finished = datetime.now(UTC)
    text = "\n".join(
        [
            f"# packgraph benchmarks, {started:%Y-%m-%d %H:%M} UTC ({mode})",
            "",
            "Every ratio is packgraph against a baseline measured in the same run, round by round "
            "(rounds interleaved), reported as median (min–max) over the measured rounds after "
            "warm-up. Bare times are shown for orientation only: this machine is shared.",
            "",
            "## Machine",
            *machine_description(),
            "",
            "## Settings",
            *settings,
            f"- wall time: {(finished - started).total_seconds():.0f} s",
            "",
            "## Results",
            render_table(rows),
            *([""] + extra if extra else []),
            "",
        ]
    )
    path.write_text(text)
    return path
