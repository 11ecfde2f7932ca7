"""A small in-process metrics registry rendered in the Prometheus text format at ``/metrics``.

Any module registers its instruments once at import time and updates them freely::

    from packgraph import metrics
    RECONNECTS = metrics.counter("packgraph_broker_reconnects_total", "Broker reconnections.")
    RECONNECTS.inc()

Each server process keeps its own values (Prometheus scrapes every process and sums them).
Registering the same name twice returns the existing instrument, so re-imports are harmless.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence

Labels = tuple[str, ...]
# What a callback instrument reads at every scrape: one value, or one per label tuple.
Reading = Callable[[], float] | Callable[[], Mapping[Labels, float]]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _format_labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{name}="{_escape(value)}"' for name, value in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _format_value(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


class _Instrument:
    kind = ""

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str] = ()) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames: Labels = tuple(labelnames)
        self._lock = threading.Lock()

    def _key(self, labels: dict[str, str]) -> Labels:
        if set(labels) != set(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {sorted(labels)}")
        return tuple(str(labels[name]) for name in self.labelnames)

    def header(self) -> list[str]:
        return [
            f"# HELP {self.name} {_escape(self.documentation)}",
            f"# TYPE {self.name} {self.kind}",
        ]

    def samples(self) -> list[str]:
        raise NotImplementedError


class _Valued(_Instrument):
    """An instrument holding one value per label tuple, or reading them from ``function`` at
    every scrape (a float without labels, a mapping of label tuples with them)."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str] = (),
        function: Reading | None = None,
    ) -> None:
        super().__init__(name, documentation, labelnames)
        self._values: dict[Labels, float] = {}
        self.function = function

    def _read(self) -> list[tuple[Labels, float]]:
        if self.function is not None:
            reading = self.function()
            if not self.labelnames:
                return [((), float(reading))]  # type: ignore[arg-type]
            return sorted((tuple(key), float(value)) for key, value in reading.items())  # type: ignore[union-attr]
        with self._lock:
            items = sorted(self._values.items())
        if not items and not self.labelnames:
            items = [((), 0)]
        return items

    def value(self, **labels: str) -> float:
        key = self._key(labels)
        if self.function is not None:
            return dict(self._read()).get(key, 0)
        return self._values.get(key, 0)

    def samples(self) -> list[str]:
        return [
            f"{self.name}{_format_labels(self.labelnames, key)} {_format_value(value)}"
            for key, value in self._read()
        ]


class Counter(_Valued):
    """A value that only goes up (requests served, events delivered)."""

    kind = "counter"

    def inc(self, amount: float = 1, **labels: str) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0) + amount


class Gauge(_Valued):
    """A value that goes up and down, or is read from ``function`` at every scrape."""

    kind = "gauge"

    def set(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = value

    def inc(self, amount: float = 1, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0) + amount

    def dec(self, amount: float = 1, **labels: str) -> None:
        self.inc(-amount, **labels)


class Histogram(_Instrument):
    """Observations counted into cumulative buckets (request durations)."""

    kind = "histogram"

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str] = (),
        buckets: Iterable[float] = DEFAULT_BUCKETS,
    ) -> None:
        super().__init__(name, documentation, labelnames)
        self.buckets = tuple(sorted(buckets)) + (math.inf,)
        self._series: dict[Labels, tuple[list[int], list[float]]] = {}

    def observe(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            counts, total = self._series.setdefault(key, ([0] * len(self.buckets), [0.0]))
            for index, bound in enumerate(self.buckets):
                if value <= bound:
                    counts[index] += 1
            total[0] += value

    def count(self, **labels: str) -> int:
        series = self._series.get(self._key(labels))
        return series[0][-1] if series else 0

    def samples(self) -> list[str]:
        lines = []
        with self._lock:
            items = sorted((key, (list(c), t[0])) for key, (c, t) in self._series.items())
        for key, (counts, total) in items:
            for bound, count in zip(self.buckets, counts, strict=True):
                le = f'le="{_format_value(bound)}"'
                lines.append(
                    f"{self.name}_bucket{_format_labels(self.labelnames, key, le)} {count}"
                )
            labels = _format_labels(self.labelnames, key)
            lines.append(f"{self.name}_sum{labels} {_format_value(total)}")
            lines.append(f"{self.name}_count{labels} {counts[-1]}")
        return lines


class Registry:
    """The instruments of one process, in registration order."""

    def __init__(self) -> None:
        self._instruments: dict[str, _Instrument] = {}
        self._lock = threading.Lock()

    def register(self, instrument: _Instrument) -> _Instrument:
        with self._lock:
            existing = self._instruments.get(instrument.name)
            if existing is not None:
                if type(existing) is not type(instrument):
                    raise ValueError(f"{instrument.name} is already a {existing.kind}")
                return existing
            self._instruments[instrument.name] = instrument
            return instrument

    def get(self, name: str) -> _Instrument | None:
        return self._instruments.get(name)

    def render(self) -> str:
        lines: list[str] = []
        for instrument in list(self._instruments.values()):
            lines.extend(instrument.header())
            lines.extend(instrument.samples())
        return "\n".join(lines) + "\n"


REGISTRY = Registry()


def counter(
    name: str,
    documentation: str,
    labelnames: Sequence[str] = (),
    function: Reading | None = None,
) -> Counter:
    """A counter; with ``function``, one whose values are read from it at every scrape (a
    total kept elsewhere, such as the interpreter's garbage-collection statistics)."""
    instrument = REGISTRY.register(Counter(name, documentation, labelnames, function))
    if function is not None:
        instrument.function = function  # type: ignore[attr-defined]
    return instrument  # type: ignore[return-value]


def gauge(
    name: str,
    documentation: str,
    labelnames: Sequence[str] = (),
    function: Reading | None = None,
) -> Gauge:
    instrument = REGISTRY.register(Gauge(name, documentation, labelnames, function))
    if function is not None:
        instrument.function = function  # type: ignore[attr-defined]
    return instrument  # type: ignore[return-value]


def histogram(
    name: str,
    documentation: str,
    labelnames: Sequence[str] = (),
    buckets: Iterable[float] = DEFAULT_BUCKETS,
) -> Histogram:
    return REGISTRY.register(Histogram(name, documentation, labelnames, buckets))  # type: ignore[return-value]


def render() -> str:
    """Every registered instrument in the Prometheus text exposition format."""
    return REGISTRY.render()


# The instruments the server itself reports. Other layers update them:
# GraphQL counts operations, the live hub counts delivered events and sets the broker state.
HTTP_REQUESTS = counter(
    "packgraph_http_requests_total",
    "HTTP requests answered, by method, route and status code.",
    ("method", "route", "status"),
)
HTTP_REQUEST_SECONDS = histogram(
    "packgraph_http_request_duration_seconds",
    "Time to answer an HTTP request, by route.",
    ("route",),
)
GRAPHQL_OPERATIONS = counter(
    "packgraph_graphql_operations_total",
    "GraphQL operations executed, by type (query/mutation/subscription) and outcome (ok/error).",
    ("type", "outcome"),
)
EVENTS_DELIVERED = counter(
    "packgraph_events_delivered_total",
    "Pack events sent to subscribers by this process.",
)
WEBSOCKET_CONNECTIONS = gauge(
    "packgraph_websocket_connections",
    "Open WebSocket connections on this process.",
)
BROKER_CONNECTED = gauge(
    "packgraph_broker_connected",
    "1 when this process is connected to the broadcast broker, else 0.",
)
EXPIRY_RUNS = counter(
    "packgraph_expiry_runs_total",
    "Runs of the periodic expiry job, by outcome (ok/error).",
    ("outcome",),
)
