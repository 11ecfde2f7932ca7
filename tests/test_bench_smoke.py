"""The benchmark harness in smoke mode: every benchmark runs end to end in seconds, so ``make
bench`` cannot rot. The figures are meaningless at this size; only that they are produced counts.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from bench.servers import postgres_reachable

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_bench(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--no-write", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result.stdout


def test_every_sqlite_benchmark_produces_its_rows():
    # given a fresh SQLite database per benchmark and real server processes
    # when the harness runs in smoke mode
    table = run_bench("--backends", "sqlite", "--only", "1,2,3,4,6")
    # then every row is in the table, with a figure and a verdict
    for row in (
        "| 1 (sqlite) |",
        "| 2 (sqlite) |",
        "| 3 (sqlite) |",
        "| 4 (20 subscribers) |",
        "| 4 (20 subscribers, memory) |",
        "| 6 (sqlite, idle) |",
        "| 6 (sqlite, under load 3) |",
    ):
        assert row in table, table
    assert "failed" not in table, table
    assert "- CPU:" in table and "- Python:" in table


def test_the_scale_benchmark_runs_on_postgres():
    if not postgres_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is unreachable")
        pytest.skip("PostgreSQL is unreachable")
    table = run_bench("--backends", "postgres", "--only", "5")
    assert "| 5a (postgres) |" in table, table
    assert "failed" not in table, table
