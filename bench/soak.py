"""``python -m bench.soak``: a server that must run for months, measured for ``--duration``.

One ``packgraph serve`` on a fresh database with the demo seeded, under the workload of
:mod:`bench.soak_load` (long-lived subscribers, subscriber churn, writers, a board reader). Every
``--sample`` seconds the server's ``/metrics`` is read (resident memory, objects the garbage
collector tracks, open files, GC pauses, subscriptions). After ``--warmup`` the run is cut into
``--window`` second windows; the report gives each window's memory, objects, files and latency
percentiles, and the least-squares slopes of memory (MiB per 100 s) and tracked objects (per
100 s) over every sample after the warm-up.

The run fails (exit 1) when a subscriber lost, duplicated or reordered an event, a churn
session did not resume exactly after its cursor, an operation failed, file descriptors did not
come back, or a slope is above ``--max-rss-slope`` / ``--max-objects-slope``. Latency drift
(p99 of the last window over the first) is reported; ``--max-p99-drift`` makes it a check too
(the long runs only: a two-minute run on a shared machine is too noisy for it).

``--server-patch MODULE`` imports MODULE into the server before it starts: the tests use it to
put a leak back and prove the soak catches it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import random
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.api import demo_catalog, login, sell_large_packs
from bench.report import machine_description
from bench.servers import (
    PG_ADMIN_DSN,
    REPO_ROOT,
    ServerProcess,
    free_port,
    fresh_database,
    packgraph_command,
    raise_open_files_limit,
    run_cli,
)
from bench.soak_load import Subscriber, Workload, cancel_all, last_event_seq
from bench.stats import percentile

MiB = 2**20
# The demo's logins: subscribers sign in as each in turn, one execution group per role.
ROLE_LOGINS = ("staff@demo.test", "manager@demo.test", "owner@demo.test")
# File descriptors the server may hold at the end beyond the first sample after warm-up (pool
# connections opened late, a log file rotated): anything per session would be far more.
FD_SLACK = 8


@dataclass(frozen=True)
class Sample:
    at: float  # seconds since the load started
    rss: float  # bytes
    objects: float  # tracked by the garbage collector, all generations
    fds: float
    subscriptions: float
    gc_pause_total: float  # seconds, all generations
    gc_pause_max_gen2: float


@dataclass
class Window:
    start: float
    end: float
    rss_mib: float
    objects: float
    fds: float
    writes: int
    write_p50_ms: float
    write_p99_ms: float
    board_p50_ms: float
    board_p99_ms: float
    gc_pause_ms: float  # time spent collecting within the window
    gc_gen2_max_ms: float


@dataclass
class Report:
    settings: dict[str, Any]
    windows: list[Window] = field(default_factory=list)
    rss_slope_mib_per_100s: float = math.nan
    objects_slope_per_100s: float = math.nan
    rss_start_mib: float = math.nan
    rss_end_mib: float = math.nan
    objects_start: float = math.nan
    objects_end: float = math.nan
    fds_start: float = math.nan
    fds_end: float = math.nan
    write_p99_drift: float = math.nan
    board_p99_drift: float = math.nan
    events: int = 0
    subscribers_complete: int = 0
    subscriber_problems: list[str] = field(default_factory=list)
    churn_sessions: int = 0
    churn_resumed: int = 0
    churn_dropped: int = 0
    operations: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def slope_per_100s(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of ``(seconds, value)`` points, per 100 seconds."""
    if len(points) < 3:
        return math.nan
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    if spread == 0:
        return math.nan
    return 100 * sum((t - mean_t) * (v - mean_v) for t, v in points) / spread


def parse_metrics(text: str) -> dict[str, float]:
    values: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def sample_of(values: dict[str, float], at: float) -> Sample:
    generations = range(3)
    return Sample(
        at=at,
        rss=values["process_resident_memory_bytes"],
        objects=sum(values[f'python_gc_objects_tracked{{generation="{g}"}}'] for g in generations),
        fds=values["process_open_fds"],
        subscriptions=values["packgraph_live_subscriptions"],
        gc_pause_total=sum(
            values[f'python_gc_pause_seconds_total{{generation="{g}"}}'] for g in generations
        ),
        gc_pause_max_gen2=values['python_gc_pause_max_seconds{generation="2"}'],
    )


def _ms(values: list[float], fraction: float) -> float:
    return percentile(values, fraction) * 1000


def windows_of(
    samples: list[Sample],
    writes: list[tuple[float, float]],
    reads: list[tuple[float, float]],
    *,
    began: float,
    warmup: float,
    window: float,
    end: float,
) -> list[Window]:
    """The time after the warm-up cut into equal windows of about ``window`` seconds (so the last
    window ends with the run)."""
    cut: list[Window] = []
    count = max(int((end - warmup) // window), 1)
    window = (end - warmup) / count
    start = warmup
    previous = max((s for s in samples if s.at <= start), key=lambda s: s.at, default=None)
    for _ in range(count):
        stop = start + window
        inside = [s for s in samples if start < s.at <= stop]
        if not inside:
            break
        last = inside[-1]
        window_writes = [d for at, d in writes if start < at - began <= stop]
        window_reads = [d for at, d in reads if start < at - began <= stop]
        paused = last.gc_pause_total - (previous.gc_pause_total if previous else 0.0)
        cut.append(
            Window(
                start=start,
                end=stop,
                rss_mib=last.rss / MiB,
                objects=last.objects,
                fds=last.fds,
                writes=len(window_writes),
                write_p50_ms=_ms(window_writes, 0.5),
                write_p99_ms=_ms(window_writes, 0.99),
                board_p50_ms=_ms(window_reads, 0.5),
                board_p99_ms=_ms(window_reads, 0.99),
                gc_pause_ms=paused * 1000,
                gc_gen2_max_ms=max(s.gc_pause_max_gen2 for s in inside) * 1000,
            )
        )
        previous = last
        start = stop
    return cut


# ------------------------------------------------------------------------------------- the run


def server_command(port: int, patch: str | None) -> list[str]:
    serve = ["serve", "--host", "127.0.0.1", "--port", str(port)]
    if not patch:
        return packgraph_command(*serve)
    bootstrap = (
        "import importlib, sys; importlib.import_module(sys.argv.pop(1)); "
        "from packgraph.cli import main; sys.exit(main())"
    )
    return [sys.executable, "-c", bootstrap, patch, *serve]


def broadcast_url(kind: str) -> str:
    if kind == "memory":
        return "memory://"
    if kind == "redis":
        return "redis://127.0.0.1:6379/0"
    return PG_ADMIN_DSN


async def run_soak(args: argparse.Namespace, workdir: Path) -> Report:
    report = Report(settings=dict(vars(args)))
    async with fresh_database(args.backend, workdir) as database:
        await asyncio.to_thread(run_cli, ["seed-demo"], database.env)
        port = free_port()
        server = ServerProcess(
            "packgraph-soak",
            server_command(port, args.server_patch),
            port=port,
            env={
                **database.env,
                "PACKGRAPH_BROADCAST_URL": broadcast_url(args.broadcast),
                "PACKGRAPH_LOG_LEVEL": "warning",
                "PACKGRAPH_MAX_SUBSCRIPTIONS": "5",
            },
            workdir=workdir,
        )
        await server.start()
        try:
            await _drive(args, server, report)
        finally:
            await server.stop()
            if report.failures:
                report.errors.append(f"server log tail:\n{server.log_tail(20)}")
    return report


async def _drive(args: argparse.Namespace, server: ServerProcess, report: Report) -> None:
    rng = random.Random(args.seed)
    session = await login(server.base_url)
    try:
        catalog = await demo_catalog(session)
        redeemable = await sell_large_packs(session, catalog, 16)
        workload = Workload(server.base_url, session, catalog, redeemable, think=args.think)
        seqs = await workload.recent_seqs(args.subscribers)
        tokens = [session.token] + [
            await _token(server.base_url, email) for email in ROLE_LOGINS[1 : args.roles]
        ]
        subscribers = [
            Subscriber(index, seqs[index % len(seqs)], tokens[index % len(tokens)])
            for index in range(args.subscribers)
        ]
        tasks: list[asyncio.Task[Any]] = []
        for subscriber in subscribers:
            ready = asyncio.Event()
            tasks.append(asyncio.create_task(workload.run_subscriber(subscriber, ready)))
            await ready.wait()
        began = time.time()
        load = [
            *(asyncio.create_task(workload.writer(random.Random(rng.random())))
              for _ in range(args.writers)),
            *(asyncio.create_task(workload.reader(random.Random(rng.random())))
              for _ in range(args.readers)),
            *(asyncio.create_task(workload.churn(random.Random(rng.random())))
              for _ in range(args.churn)),
        ]  # fmt: skip
        samples = await _sample(server, began, args)
        workload.stopping.set()
        # Churn sessions waiting for their next event would wait for writers that stopped.
        await cancel_all(load[args.writers + args.readers :])
        await asyncio.gather(*load, return_exceptions=True)
        await _drain(workload, subscribers, report)
        await asyncio.sleep(2)  # dropped churn sockets are noticed by the server
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            final = sample_of(parse_metrics((await client.get("/metrics")).text), args.duration)
        await cancel_all(tasks)
        _summarise(report, args, samples, workload, final, began)
    finally:
        await session.client.aclose()


async def _token(base_url: str, email: str) -> str:
    session = await login(base_url, email)
    await session.client.aclose()
    return session.token


async def _sample(server: ServerProcess, began: float, args: argparse.Namespace) -> list[Sample]:
    samples: list[Sample] = []
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        while (now := time.time() - began) < args.duration:
            await asyncio.sleep(min(args.sample, max(args.duration - now, 0.01)))
            response = await client.get("/metrics")
            samples.append(sample_of(parse_metrics(response.text), time.time() - began))
            if args.progress:
                last = samples[-1]
                print(
                    f"[soak {last.at:7.1f}s] rss {last.rss / MiB:6.1f} MiB, "
                    f"objects {last.objects:,.0f}, fds {last.fds:.0f}, "
                    f"subscriptions {last.subscriptions:.0f}",
                    file=sys.stderr,
                    flush=True,
                )
    return samples


async def _drain(workload: Workload, subscribers: list[Subscriber], report: Report) -> None:
    """Every long-lived subscriber must reach the business's last event."""
    final = await last_event_seq(workload, workload.tally.latest_seq)
    for subscriber in subscribers:
        subscriber.target = final
        if subscriber.last_seq >= final:
            subscriber.caught_up.set()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(60):
            await asyncio.gather(*(s.caught_up.wait() for s in subscribers))
    report.events = final - min(s.after_seq for s in subscribers)
    for subscriber in subscribers:
        if subscriber.last_seq == final and not subscriber.problems:
            report.subscribers_complete += 1
        else:
            report.subscriber_problems.append(
                f"subscriber {subscriber.index}: at {subscriber.last_seq} of {final}; "
                f"{'; '.join(subscriber.problems) or 'no problem recorded'}"
            )


def _summarise(
    report: Report,
    args: argparse.Namespace,
    samples: list[Sample],
    workload: Workload,
    final: Sample,
    began: float,
) -> None:
    tally = workload.tally
    after = [s for s in samples if s.at >= args.warmup]
    report.windows = windows_of(
        samples, tally.writes, tally.reads,
        began=began, warmup=args.warmup, window=args.window,
        end=max([args.duration, *(s.at for s in samples)]),
    )  # fmt: skip
    report.rss_slope_mib_per_100s = slope_per_100s([(s.at, s.rss / MiB) for s in after])
    report.objects_slope_per_100s = slope_per_100s([(s.at, s.objects) for s in after])
    if after:
        report.rss_start_mib, report.rss_end_mib = after[0].rss / MiB, after[-1].rss / MiB
        report.objects_start, report.objects_end = after[0].objects, after[-1].objects
        report.fds_start = after[0].fds
    report.fds_end = final.fds
    if len(report.windows) >= 2:
        first, last = report.windows[0], report.windows[-1]
        report.write_p99_drift = last.write_p99_ms / first.write_p99_ms
        report.board_p99_drift = last.board_p99_ms / first.board_p99_ms
    report.churn_sessions = tally.churn_sessions
    report.churn_resumed = tally.churn_resumed
    report.churn_dropped = tally.churn_dropped
    report.operations = dict(tally.operations)
    report.errors = list(tally.errors)
    _judge(report, args)


def _judge(report: Report, args: argparse.Namespace) -> None:
    failures = report.failures
    if report.subscriber_problems:
        failures.append(f"{len(report.subscriber_problems)} subscriber(s) missed events")
    if report.errors:
        failures.append(f"{len(report.errors)} operation(s) or churn session(s) failed")
    if not report.windows:
        failures.append("no measured window after the warm-up")
    if args.churn and report.churn_sessions == 0:
        failures.append("no churn session completed")
    if report.fds_end > report.fds_start + FD_SLACK:
        failures.append(
            f"open files did not come back: {report.fds_start:.0f} → {report.fds_end:.0f}"
        )
    if args.max_rss_slope is not None and not (report.rss_slope_mib_per_100s <= args.max_rss_slope):
        failures.append(
            f"memory grows {report.rss_slope_mib_per_100s:.2f} MiB per 100 s "
            f"(bound {args.max_rss_slope})"
        )
    if args.max_objects_slope is not None and not (
        report.objects_slope_per_100s <= args.max_objects_slope
    ):
        failures.append(
            f"tracked objects grow {report.objects_slope_per_100s:,.0f} per 100 s "
            f"(bound {args.max_objects_slope:,.0f})"
        )
    if args.max_p99_drift is not None:
        for name, drift in (("write", report.write_p99_drift), ("board", report.board_p99_drift)):
            if not (drift <= args.max_p99_drift):
                failures.append(
                    f"{name} p99 of the last window is {drift:.2f}× the first "
                    f"(bound {args.max_p99_drift})"
                )


# ------------------------------------------------------------------------------------ report


def render(report: Report) -> str:
    settings = report.settings
    lines = [
        f"# packgraph soak, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        *machine_description(),
        "",
        "## Settings",
        f"- {settings['backend']} database, {settings['broadcast']} broadcast; "
        f"{settings['duration']:.0f} s after a {settings['warmup']:.0f} s warm-up, windows of "
        f"{settings['window']:.0f} s, /metrics read every {settings['sample']:.0f} s",
        f"- {settings['subscribers']} long-lived subscribers, each resuming from its own cursor, "
        f"signed in with {settings['roles']} roles (execution groups); {settings['churn']} churn "
        "loops; "
        f"{settings['writers']} writers and {settings['readers']} board reader(s), "
        f"{settings['think']} s think time",
        *([f"- server patched with `{patch}`"] if (patch := settings["server_patch"]) else []),
        "",
        "## Result: " + ("passed" if report.passed else "FAILED: " + "; ".join(report.failures)),
        "",
        f"- memory: {report.rss_start_mib:.1f} → {report.rss_end_mib:.1f} MiB after the "
        f"warm-up; slope **{report.rss_slope_mib_per_100s:+.2f} MiB per 100 s**",
        f"- tracked objects: {report.objects_start:,.0f} → {report.objects_end:,.0f}; slope "
        f"**{report.objects_slope_per_100s:+,.0f} per 100 s**",
        f"- open files: {report.fds_start:.0f} after warm-up, {report.fds_end:.0f} at the end",
        f"- p99 drift, last window / first: writes **{report.write_p99_drift:.2f}×**, board "
        f"**{report.board_p99_drift:.2f}×**",
        f"- events: {report.events:,} delivered to each of {report.subscribers_complete} of "
        f"{settings['subscribers']} long-lived subscribers, none lost, duplicated or reordered"
        if not report.subscriber_problems
        else f"- events: {report.events:,}; PROBLEMS: {report.subscriber_problems[:5]}",
        f"- churn: {report.churn_sessions:,} sessions ({report.churn_resumed:,} resumed from a "
        f"cursor, {report.churn_dropped:,} dropped without closing)",
        f"- operations: {', '.join(f'{k} {v:,}' for k, v in sorted(report.operations.items()))}",
        *([f"- errors: {report.errors[:10]}"] if report.errors else []),
        "",
        "| window (s) | RSS MiB | objects | fds | writes | write p50 / p99 ms | "
        "board p50 / p99 ms | GC time ms | gen-2 pause max ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for w in report.windows:
        lines.append(
            f"| {w.start:.0f}–{w.end:.0f} | {w.rss_mib:.1f} | {w.objects:,.0f} | {w.fds:.0f} | "
            f"{w.writes} | {w.write_p50_ms:.0f} / {w.write_p99_ms:.0f} | "
            f"{w.board_p50_ms:.0f} / {w.board_p99_ms:.0f} | {w.gc_pause_ms:.0f} | "
            f"{w.gc_gen2_max_ms:.0f} |"
        )
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--duration", type=float, default=1800, help="seconds of load")
    parser.add_argument("--warmup", type=float, default=60)
    parser.add_argument("--window", type=float, default=60)
    parser.add_argument("--sample", type=float, default=5, help="seconds between /metrics reads")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--broadcast", choices=["memory", "redis", "postgres"], default="memory")
    parser.add_argument("--subscribers", type=int, default=50)
    parser.add_argument(
        "--roles", type=int, default=3, choices=[1, 2, 3], help="staff, manager, owner"
    )
    parser.add_argument("--churn", type=int, default=4, help="concurrent churn loops")
    parser.add_argument("--writers", type=int, default=5)
    parser.add_argument("--readers", type=int, default=1)
    parser.add_argument("--think", type=float, default=1.0, help="seconds between operations")
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--max-rss-slope", type=float, help="MiB per 100 s")
    parser.add_argument("--max-objects-slope", type=float, help="tracked objects per 100 s")
    parser.add_argument("--max-p99-drift", type=float, help="last window p99 / first")
    parser.add_argument("--server-patch", help="module imported into the server first")
    parser.add_argument("--json", type=Path, help="write the report as JSON here")
    parser.add_argument("--markdown", type=Path, help="write the report as Markdown here")
    parser.add_argument("--write", action="store_true", help="write bench/results/<date>-soak-…")
    parser.add_argument("--progress", action="store_true", help="print every sample")
    args = parser.parse_args(argv)
    if args.warmup + args.window > args.duration:
        parser.error("--duration must hold the warm-up and at least one window")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    raise_open_files_limit()
    with tempfile.TemporaryDirectory(prefix="packgraph-soak-") as workdir:
        report = asyncio.run(run_soak(args, Path(workdir)))
    text = render(report)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(asdict(report) | {"passed": report.passed}, default=str))
    if args.markdown:
        args.markdown.write_text(text)
    if args.write:
        name = f"{datetime.now(UTC):%Y-%m-%d}-soak-{args.backend}-{args.subscribers}.md"
        path = REPO_ROOT / "bench" / "results" / name
        path.write_text(text)
        print(f"written to {path}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
