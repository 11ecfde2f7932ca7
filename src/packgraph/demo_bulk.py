"""Bulk demo history for large data sets (``packgraph seed-demo --clients 20000``).

Calling the domain functions once per redemption would take hours for ~100,000 packs, so this
writes the rows directly with ``bulk_create`` in batches — keeping every invariant the domain
keeps: ``used`` equals the sum of the item's ledger entries and stays within the allowance, the
status follows :func:`compute_status`, the payment status follows the payments, every redemption
has its allocated invoice line with its session number, and invoice numbers come from the
business counter. Outbox events are not written for bulk history (it happened "before" the
dashboard was watching), so the live feed starts empty.

Primary keys are assigned here (from the current maximum) so rows can reference each other
before insertion; run it while no server writes to the same database.

Rows are plain namespaces turned into value tuples and sent with one ``executemany`` per table and
batch: building a Tortoise model instance per row cost more than the database's own work.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from types import SimpleNamespace
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.transactions import in_transaction

from packgraph.domain.catalog import TemplateItemSpec, template_item_specs
from packgraph.domain.clock import local_date, validity_end
from packgraph.domain.invoices import INVOICE_PREFIX
from packgraph.domain.payment_allocation import payment_status_for
from packgraph.domain.search import client_search_text, pack_search_name
from packgraph.domain.status import compute_status
from packgraph.domain.units import units_for
from packgraph.models import (
    Business,
    Client,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    LedgerKind,
    LineKind,
    Metric,
    Pack,
    PackItem,
    PackItemService,
    PackTemplate,
    Payment,
    Service,
)

BATCH_CLIENTS = 250
INSERT_BATCH = 2000
HISTORY_DAYS = 540
# Insertion order: every row after the rows it references.
MODELS: tuple[type[Model], ...] = (
    Client,
    Pack,
    PackItem,
    PackItemService,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    Payment,
)
FIRST_NAMES = (
    "Olivia Noah Amelia Leo Isla Oliver Mia Henry Ava Jack Charlotte William Grace Lucas Zoe "
    "Thomas Ruby Archie Sophie James Chloe Ethan Harper Liam Ella Mason Aria Hudson Ivy Max"
).split()
LAST_NAMES = (
    "Smith Jones Williams Brown Wilson Taylor Nguyen Johnson Martin White Anderson Walker "
    "Thompson Harris Lee Ryan Robinson Kelly King Davis Wright Evans Roberts Green Hall Wood "
    "Jackson Clarke Patel Khan Chen Singh Kaur Murphy Hughes Edwards"
).split()


class _Row(SimpleNamespace):
    """One row to insert: its field values by model field name (``client_id``, not ``client``)."""

    id: int


@dataclass
class _Rows:
    """The rows of one batch, per model, with the next free id of each table."""

    next_ids: dict[type[Model], int]
    rows: dict[type[Model], list[_Row]] = field(default_factory=dict)

    def add(self, model: type[Model], **values: Any) -> Any:
        row_id = self.next_ids[model]
        self.next_ids[model] = row_id + 1
        row = _Row(id=row_id, **values)
        self.rows.setdefault(model, []).append(row)
        return row


@dataclass(frozen=True)
class _Table:
    """How the rows of one model become an INSERT: its columns and each field's default."""

    model: type[Model]
    fields: tuple[str, ...]
    columns: tuple[str, ...]

    @classmethod
    def of(cls, model: type[Model]) -> _Table:
        projection = model._meta.fields_db_projection
        return cls(model, tuple(projection), tuple(projection.values()))

    async def insert(self, conn: BaseDBAsyncClient, rows: Sequence[_Row], now: datetime) -> None:
        """Insert ``rows`` in ``conn``'s transaction, ``INSERT_BATCH`` rows per ``executemany``."""
        columns = ", ".join(f'"{column}"' for column in self.columns)
        if conn.capabilities.dialect == "postgres":
            marks = ", ".join(f"${number}" for number in range(1, len(self.columns) + 1))
        else:
            marks = ", ".join("?" * len(self.columns))
        sql = f'INSERT INTO "{self.model._meta.db_table}" ({columns}) VALUES ({marks})'
        for start in range(0, len(rows), INSERT_BATCH):
            await conn.execute_many(sql, self.values(rows[start : start + INSERT_BATCH], now))

    def values(self, rows: Sequence[_Row], now: datetime) -> list[tuple[Any, ...]]:
        """Each row's values in column order, with the model's defaults for what it leaves out
        (``auto_now`` timestamps: ``now``). Enums are stored as their values; every other value
        the writer gives is already what the driver takes (ints, text, aware datetimes)."""
        fields_map = self.model._meta.fields_map
        defaults: dict[str, Any] = {}
        for name in self.fields:
            spec = fields_map[name]
            if getattr(spec, "auto_now", False) or getattr(spec, "auto_now_add", False):
                defaults[name] = now
            elif spec.default is not None or spec.null:
                defaults[name] = spec.default  # a callable default is called per row
        result = []
        for row in rows:
            given = vars(row)
            values = []
            for name in self.fields:
                if name in given:
                    value = given[name]
                else:
                    value = defaults[name]  # KeyError: a required field the writer left out
                    if callable(value):
                        value = value()
                values.append(value.value if isinstance(value, Enum) else value)
            result.append(tuple(values))
        return result


@dataclass(frozen=True)
class _Template:
    row: PackTemplate
    items: list[TemplateItemSpec]


class _HistoryWriter:
    """Generates one client's packs with consistent history into a :class:`_Rows` batch."""

    def __init__(
        self,
        *,
        business: Business,
        templates: list[_Template],
        services: dict[int, Service],
        staff_ids: Sequence[int],
        now: datetime,
        seed: int,
    ) -> None:
        self.business = business
        self.templates = templates
        self.services = services
        self.staff_ids = list(staff_ids)
        self.now = now
        self.random = random.Random(seed)
        self.invoices: list[_Row] = []

    def _moment_between(self, start: datetime, end: datetime) -> datetime:
        if end <= start:
            return start
        return start + (end - start) * self.random.random()

    def client(self, rows: _Rows, index: int) -> None:
        first = self.random.choice(FIRST_NAMES)
        last = self.random.choice(LAST_NAMES)
        name = f"{first} {last}"
        email = f"{first}.{last}.{index}@example.test".lower()
        phone = f"04{self.random.randrange(10**8):08d}"
        client = rows.add(
            Client,
            business_id=self.business.id,
            name=name,
            email=email,
            phone=phone,
            search_text=client_search_text(name=name, email=email, phone=phone),
            created_at=self.now - timedelta(days=HISTORY_DAYS + 30),
        )
        for _ in range(self.random.randint(3, 7)):
            self.pack(rows, client)

    def pack(self, rows: _Rows, client: _Row) -> None:
        rng = self.random
        template = rng.choice(self.templates)
        row = template.row
        purchased_at = self.now - timedelta(seconds=rng.uniform(0, HISTORY_DAYS * 86400))
        expires_at = validity_end(
            purchased_at,
            days=row.validity_days,
            months=row.validity_months,
            timezone=self.business.timezone,
        )
        discount = row.price // 10 if rng.random() < 0.1 else 0
        final_price = row.price - discount
        cancelled_at = None
        if rng.random() < 0.04:
            cancelled_at = self._moment_between(purchased_at, self.now)
        end = min(moment for moment in (self.now, expires_at, cancelled_at) if moment)
        staff_id = rng.choice(self.staff_ids)
        pack = rows.add(
            Pack,
            business_id=self.business.id,
            client_id=client.id,
            template_id=row.id,
            name=row.name,
            search_name=pack_search_name(row.name),
            description=row.description,
            metric=row.metric,
            price=row.price,
            discount=discount,
            final_price=final_price,
            session_price=row.session_price,
            purchased_at=purchased_at,
            expires_at=expires_at,
            cancelled_at=cancelled_at,
            cancel_reason="Client request" if cancelled_at else "",
            created_at=purchased_at,
        )
        invoice = rows.add(
            Invoice,
            business_id=self.business.id,
            client_id=client.id,
            number="",  # numbered when the batch reserves its range of the business counter
            issued_on=local_date(purchased_at, self.business.timezone),
            created_at=purchased_at,
        )
        self.invoices.append(invoice)
        rows.add(
            InvoiceLine,
            business_id=self.business.id,
            invoice_id=invoice.id,
            kind=LineKind.PACK_SALE,
            description=row.name,
            pack_id=pack.id,
            quantity=1,
            unit_price=final_price,
            amount=final_price,
            created_at=purchased_at,
        )
        fill = rng.random() < 0.15
        balances = []
        for position, spec in enumerate(template.items):
            item = rows.add(
                PackItem,
                business_id=self.business.id,
                pack_id=pack.id,
                position=position,
                allowance=spec.allowance,
            )
            for service_id in spec.service_ids:
                rows.add(
                    PackItemService,
                    business_id=self.business.id,
                    item_id=item.id,
                    service_id=service_id,
                )
            target = spec.allowance if fill else int(spec.allowance * rng.uniform(0, 0.95))
            item.used = self._redeem(
                rows, pack=pack, item=item, spec=spec, invoice=invoice, target=target, end=end
            )
            if fill and item.used < spec.allowance:
                # Nothing on the menu fits the remaining balance exactly: written off, as a
                # manager would with a correction.
                rows.add(
                    LedgerEntry,
                    business_id=self.business.id,
                    pack_id=pack.id,
                    item_id=item.id,
                    kind=LedgerKind.CORRECTION,
                    quantity=spec.allowance - item.used,
                    staff_id=self.staff_ids[0],
                    reason="Remaining balance written off",
                    created_at=end,
                )
                item.used = spec.allowance
            balances.append((item.used, item.allowance))
        pack.status = compute_status(
            cancelled_at=cancelled_at, items=balances, expires_at=expires_at, now=self.now
        )
        self._pay(rows, pack=pack, invoice=invoice, staff_id=staff_id)

    def _redeem(
        self,
        rows: _Rows,
        *,
        pack: _Row,
        item: _Row,
        spec: TemplateItemSpec,
        invoice: _Row,
        target: int,
        end: datetime,
    ) -> int:
        rng = self.random
        metric = Metric(pack.metric)
        services = [self.services[service_id] for service_id in spec.service_ids]
        used = 0
        visits: list[tuple[Service, int]] = []
        while used < target:
            units_by_service = [
                (service, units_for(metric=metric, service=service, quantity=1))
                for service in services
            ]
            fitting = [(s, u) for s, u in units_by_service if used + u <= spec.allowance]
            if not fitting:
                break
            service, units = rng.choice(fitting)
            used += units
            visits.append((service, units))
        moments = sorted(self._moment_between(pack.purchased_at, end) for _ in visits)
        running = 0
        for number, ((service, units), moment) in enumerate(
            zip(visits, moments, strict=True), start=1
        ):
            running += units
            session = running if metric == Metric.SESSIONS else number
            line = rows.add(
                InvoiceLine,
                business_id=self.business.id,
                invoice_id=invoice.id,
                kind=LineKind.SERVICE,
                description=service.name,
                service_id=service.id,
                pack_id=pack.id,
                pack_item_id=item.id,
                units=units,
                session_number=session,
                quantity=1,
                unit_price=pack.session_price,
                amount=pack.session_price,
                created_at=moment,
            )
            rows.add(
                LedgerEntry,
                business_id=self.business.id,
                pack_id=pack.id,
                item_id=item.id,
                kind=LedgerKind.REDEMPTION,
                quantity=units,
                session_number=session,
                staff_id=rng.choice(self.staff_ids),
                invoice_line_id=line.id,
                created_at=moment,
            )
        return used

    def _pay(self, rows: _Rows, *, pack: _Row, invoice: _Row, staff_id: int) -> None:
        roll = self.random.random()
        if pack.final_price == 0 or roll < 0.15:
            amount = 0
        elif roll < 0.3:
            amount = pack.final_price * self.random.randint(3, 7) // 10
        else:
            amount = pack.final_price
        if amount:
            rows.add(
                Payment,
                business_id=self.business.id,
                invoice_id=invoice.id,
                pack_id=pack.id,
                amount=amount,
                method=self.random.choice(("CARD", "CARD", "CASH")),
                received_at=pack.purchased_at,
                staff_id=staff_id,
                created_at=pack.purchased_at,
            )
        pack.amount_paid = amount
        pack.payment_status = payment_status_for(amount, pack.final_price)


async def _next_ids(conn: BaseDBAsyncClient) -> dict[type[Model], int]:
    next_ids = {}
    for model in MODELS:
        rows = await conn.execute_query_dict(
            f"SELECT COALESCE(MAX(id), 0) AS top FROM {model._meta.db_table}"
        )
        next_ids[model] = int(rows[0]["top"]) + 1
    return next_ids


async def _number_invoices(conn: BaseDBAsyncClient, business_id: int, invoices: list[_Row]):
    """Take a range of the business's invoice counter, as ``next_invoice_number`` would."""
    mark = "$1" if conn.capabilities.dialect == "postgres" else "?"
    mark2 = "$2" if conn.capabilities.dialect == "postgres" else "?"
    rows = await conn.execute_query_dict(
        f"UPDATE business SET invoice_seq = invoice_seq + {mark} WHERE id = {mark2} "
        "RETURNING invoice_seq",
        [len(invoices), business_id],
    )
    first = int(rows[0]["invoice_seq"]) - len(invoices) + 1
    for offset, invoice in enumerate(invoices):
        invoice.number = f"{INVOICE_PREFIX}{first + offset:05d}"


async def _reset_sequences(conn: BaseDBAsyncClient) -> None:
    """PostgreSQL serial columns do not see explicit ids: move each sequence past the maximum."""
    if conn.capabilities.dialect != "postgres":
        return
    for model in MODELS:
        table = model._meta.db_table
        await conn.execute_script(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT GREATEST(MAX(id), 1) FROM {table}))"
        )


async def bulk_seed(
    *,
    business: Business,
    services: Sequence[Service],
    templates: Sequence[PackTemplate],
    staff_ids: Sequence[int | None],
    clients: int,
    now: datetime,
    progress: Callable[[int], None] | None = None,
    seed: int = 2026,
) -> None:
    """Add ``clients`` clients (about five packs each, with history) to ``business``."""
    writer = _HistoryWriter(
        business=business,
        templates=[_Template(row, await template_item_specs(None, row)) for row in templates],
        services={service.id: service for service in services},
        staff_ids=[staff_id for staff_id in staff_ids if staff_id is not None],
        now=now,
        seed=seed,
    )
    connection = Tortoise.get_connection("default")
    tables = [_Table.of(model) for model in MODELS]
    next_ids = await _next_ids(connection)
    done = 0
    while done < clients:
        count = min(BATCH_CLIENTS, clients - done)
        batch = _Rows(next_ids=next_ids)
        writer.invoices = []
        for index in range(done, done + count):
            writer.client(batch, index)
        async with in_transaction() as conn:
            await _number_invoices(conn, business.id, writer.invoices)
            for table in tables:
                rows = batch.rows.get(table.model, [])
                if rows:
                    await table.insert(conn, rows, now)
        done += count
        if progress:
            progress(done)
    await _reset_sequences(connection)
    # What autovacuum would do a little later: statistics for the planner, and on PostgreSQL
    # the visibility map, so the board's counts are answered from their index alone.
    vacuum = "VACUUM ANALYZE" if connection.capabilities.dialect == "postgres" else "ANALYZE"
    await connection.execute_script(vacuum)
