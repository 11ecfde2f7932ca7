"""What every benchmark shares: the run's configuration and the load processes it starts."""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.servers import REPO_ROOT, child_env


@dataclass(frozen=True)
class Config:
    """How long and how hard to measure. ``smoke`` only proves the harness still works."""

    mode: str
    workdir: Path
    backends: tuple[str, ...]
    rounds: int
    duration: float
    warmup: float
    concurrency: int
    seed_clients: int
    subscriber_counts: tuple[int, ...]
    fanout_rounds: int
    scale_clients: tuple[int, int]
    latency_samples: int

    @classmethod
    def for_mode(cls, mode: str, workdir: Path, backends: tuple[str, ...]) -> Config:
        if mode == "smoke":
            return cls(
                mode, workdir, backends, rounds=1, duration=0.3, warmup=0.1, concurrency=2,
                seed_clients=20, subscriber_counts=(20,), fanout_rounds=1,
                scale_clients=(13, 20), latency_samples=2,
            )  # fmt: skip
        if mode == "quick":
            return cls(
                mode, workdir, backends, rounds=3, duration=2.0, warmup=1.0, concurrency=8,
                seed_clients=30, subscriber_counts=(200, 1000), fanout_rounds=3,
                scale_clients=(213, 2130), latency_samples=20,
            )  # fmt: skip
        return cls(
            mode, workdir, backends, rounds=5, duration=4.0, warmup=1.0, concurrency=8,
            seed_clients=30, subscriber_counts=(1000, 5000), fanout_rounds=5,
            scale_clients=(213, 21300), latency_samples=50,
        )  # fmt: skip

    def describe(self) -> list[str]:
        return [
            f"- mode: {self.mode}; backends: {', '.join(self.backends)}",
            f"- throughput rounds: {self.rounds} × {self.duration:.1f} s per side after "
            f"{self.warmup:.1f} s warm-up, {self.concurrency} keep-alive connections",
            f"- subscribers: {', '.join(map(str, self.subscriber_counts))}; "
            f"{self.fanout_rounds} events each",
            f"- board at scale: demo seeded with {self.scale_clients[0]} and "
            f"{self.scale_clients[1]} clients (PostgreSQL)",
            f"- check-in latency samples: {self.latency_samples} idle, "
            f"{self.latency_samples} under load",
        ]


async def run_json_process(command: list[str], *, within: float = 600) -> dict[str, Any]:
    """Run a load process; its last stdout line is JSON."""
    process = await asyncio.create_subprocess_exec(
        *command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=child_env(),
        cwd=REPO_ROOT,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), within)
    except BaseException:
        # Cancelled (a background load no longer needed) or timed out: end the process.
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    if process.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command[:4])} failed ({process.returncode}):\n{stderr.decode()[-2000:]}"
        )
    return json.loads(stdout.decode().strip().splitlines()[-1])


async def http_load(
    port: int,
    bodies: Path,
    config: Config,
    *,
    path: str = "/graphql",
    headers: tuple[str, ...] = (),
    expect: str = "",
    concurrency: int | None = None,
    duration: float | None = None,
    warmup: float | None = None,
    latencies: bool = False,
) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "bench.http_load",
        "--port",
        str(port),
        "--path",
        path,
        "--bodies",
        str(bodies),
        "--concurrency",
        str(concurrency or config.concurrency),
        "--duration",
        str(duration if duration is not None else config.duration),
        "--warmup",
        str(warmup if warmup is not None else config.warmup),
    ]
    for header in headers:
        command += ["--header", header]
    if expect:
        command += ["--expect", expect]
    if latencies:
        command.append("--latencies")
    result = await run_json_process(command)
    if result["requests"] == 0:
        raise RuntimeError(f"no successful request on :{port}{path}: {result['first_failure']}")
    return result


async def raw_writes(url: str, items: Path, config: Config) -> dict[str, Any]:
    return await run_json_process(
        [
            sys.executable,
            "-m",
            "bench.raw_writes",
            "--url",
            url,
            "--items",
            str(items),
            "--concurrency",
            str(config.concurrency),
            "--duration",
            str(config.duration),
            "--warmup",
            str(config.warmup),
        ]
    )
