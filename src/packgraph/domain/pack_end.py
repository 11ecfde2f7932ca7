"""What a pack's ending owes: when a pack becomes FULLY_USED or EXPIRED, its announcement
(PACK_FULLY_USED / PACK_EXPIRED), the staff task (``create_task_on_pack_end``) and the template's
auto-renewal (``ON_FULLY_USED`` / ``ON_EXPIRY``, SPEC §1.7).

``status.update_pack_status`` only says which ending a change started (``StatusChange.ending``);
the operation that caused it calls :func:`apply_pack_end` after appending its own event, so the
outbox reads "SESSION_REDEEMED, then PACK_FULLY_USED". Everything runs in the caller's
transaction, which must be the one whose update made the transition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from packgraph.domain.actor import Actor
from packgraph.domain.catalog import UNSET
from packgraph.domain.clock import local_date, utcnow
from packgraph.domain.events import append_event
from packgraph.domain.invoices import create_invoice
from packgraph.domain.pack_creation import (
    add_pack_sale_line,
    append_pack_sold,
    create_pack,
    source_from_template,
)
from packgraph.domain.status import PackEnding, StatusChange, update_pack_status
from packgraph.domain.tasks import raise_task
from packgraph.models import (
    AutoRenew,
    Business,
    Event,
    EventType,
    Pack,
    PackTemplate,
    TaskKind,
)


@dataclass(frozen=True)
class _Consequences:
    event: EventType
    task: TaskKind
    task_key: str
    renews_on: AutoRenew


_CONSEQUENCES = {
    PackEnding.FULLY_USED: _Consequences(
        EventType.PACK_FULLY_USED, TaskKind.PACK_USED_UP, "used_up", AutoRenew.ON_FULLY_USED
    ),
    PackEnding.EXPIRED: _Consequences(
        EventType.PACK_EXPIRED, TaskKind.PACK_EXPIRED, "expired", AutoRenew.ON_EXPIRY
    ),
}


async def apply_pack_end(
    conn: BaseDBAsyncClient, *, change: StatusChange, actor: Actor, now: datetime
) -> Pack | None:
    """Perform the consequences of the ending ``change`` started, if any; returns the pack
    auto-renewal created.

    A pack that ends a second time (a unit given back, then used again; restored, then expired
    again) gets a new event (``times``) and task but is renewed only the first time.
    """
    if change.ending is None:
        return None
    consequences = _CONSEQUENCES[change.ending]
    pack = change.pack
    times = await Event.filter(pack_id=pack.id, type=consequences.event).using_db(conn).count() + 1
    payload: dict[str, Any] = change.payload()
    if change.ending == PackEnding.EXPIRED:
        payload["expiresAt"] = pack.expires_at.isoformat() if pack.expires_at else None
    await append_event(
        conn,
        actor=actor,
        type=consequences.event,
        pack_id=pack.id,
        client_id=pack.client_id,
        payload={**payload, "times": times},
    )
    business = await Business.get(id=pack.business_id).using_db(conn)
    if business.create_task_on_pack_end:
        await raise_task(
            conn,
            business_id=pack.business_id,
            kind=consequences.task,
            pack_id=pack.id,
            client_id=pack.client_id,
            dedupe_key=f"{consequences.task_key}:{pack.id}:{times}",
            now=now,
        )
    if times != 1 or pack.template_id is None:
        return None
    template = await PackTemplate.get_or_none(id=pack.template_id).using_db(conn)
    if template is None or template.archived or template.auto_renew != consequences.renews_on:
        return None
    return await renew_pack(conn, pack=pack, actor=actor)


async def refresh_pack(
    conn: BaseDBAsyncClient, *, pack_id: int, actor: Actor, now: datetime | None = None
) -> Pack:
    """Recompute and store the status, then apply the ending it started (if any).

    Use :func:`status.update_pack_status` + :func:`apply_pack_end` instead when the operation's
    own event must carry ``statusFrom``/``statusTo`` and come before the ending's event.
    """
    now = now or utcnow()
    change = await update_pack_status(conn, pack_id=pack_id, actor=actor, now=now)
    await apply_pack_end(conn, change=change, actor=actor, now=now)
    return change.pack


async def renew_pack(conn: BaseDBAsyncClient, *, pack: Pack, actor: Actor) -> Pack | None:
    """Auto-renewal: a new UNPAID pack from ``pack``'s template for the same client, on a new
    invoice, with a PACK_SOLD event (``renewedFromPackId``). Runs in the caller's transaction.

    Returns None when the template is gone or archived. :func:`apply_pack_end` decides *when*.
    """
    if pack.template_id is None:
        return None
    template = await PackTemplate.get_or_none(
        id=pack.template_id, business_id=pack.business_id
    ).using_db(conn)
    if template is None or template.archived:
        return None
    business = await Business.get(id=pack.business_id).using_db(conn)
    now = utcnow()
    renewed = await create_pack(
        conn,
        actor=actor,
        business=business,
        client_id=pack.client_id,
        source=await source_from_template(conn, template),
        discount=0,
        expires_at=UNSET,
        purchased_at=now,
        referral={},
    )
    invoice = await create_invoice(
        conn,
        actor=actor,
        client_id=pack.client_id,
        issued_on=local_date(now, business.timezone),
    )
    line = await add_pack_sale_line(conn, actor=actor, invoice=invoice, pack=renewed)
    await append_pack_sold(
        conn,
        actor=actor,
        pack=renewed,
        invoice=invoice,
        line=line,
        extra={"renewedFromPackId": pack.id},
    )
    return renewed
