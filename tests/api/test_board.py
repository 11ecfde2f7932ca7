"""The pack board: batched loading (constant SQL statements), filters, orderings, keyset pages."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from packgraph.domain import catalog as catalog_domain
from packgraph.domain.adjustments import cancel_pack, change_pack_expiry
from packgraph.domain.payments import record_payment
from packgraph.domain.redemptions import redeem_session
from packgraph.models import Metric
from tests.api.support import gid, given_catalog, given_pack, make_tenant, running_app

BOARD = """
query Board(
  $first: Int, $after: String, $filter: PackFilter, $orderBy: PackOrder! = PURCHASED_AT_DESC
) {
  packs(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges {
      cursor
      node {
        id name status paymentStatus metric price discount finalPrice amountPaid balanceDue
        currency purchasedAt expiresAt version
        client { id name }
        template { id name }
        totals { used allowance remaining }
        items { id allowance used remaining progress services { id name } }
      }
    }
  }
}
"""


class StatementCounter(logging.Handler):
    """Counts the SQL statements Tortoise sends (it logs each one on ``tortoise.db_client``)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.args and isinstance(record.args, tuple) and isinstance(record.args[0], str):
            sql = record.args[0].lstrip().upper()
            if sql.startswith(("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")):
                self.statements.append(record.args[0])


@contextmanager
def counting_statements():
    logger = logging.getLogger("tortoise.db_client")
    counter = StatementCounter()
    previous = logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(previous)


async def _many_packs(tenant, count: int) -> None:
    """``count`` packs over several clients and templates, some redeemed, some paid."""
    catalog = await given_catalog(tenant)
    shared = await catalog_domain.create_pack_template(
        actor=tenant.owner,
        name="8 visits physio or massage",
        metric=Metric.SESSIONS,
        price=600_00,
        items=[
            catalog_domain.TemplateItemSpec(
                allowance=8, service_ids=[catalog.physio.id, catalog.massage.id]
            ),
            catalog_domain.TemplateItemSpec(allowance=2, service_ids=[catalog.physio.id]),
        ],
    )
    clients = [catalog.client] + [
        await catalog_domain.create_client(actor=tenant.owner, name=f"Client {n}") for n in range(5)
    ]
    for n in range(count):
        sale = await given_pack(
            tenant,
            catalog,
            client_id=clients[n % len(clients)].id,
            template_id=(shared if n % 2 else catalog.ten_massages).id,
        )
        if n % 3 == 0:
            await redeem_session(
                actor=tenant.staff, pack_id=sale.pack.id, service_id=catalog.massage.id
            )
        if n % 4 == 0:
            await record_payment(
                actor=tenant.staff, amount=100_00, method="CARD", pack_id=sale.pack.id
            )


async def test_the_board_runs_the_same_statements_for_5_and_50_packs(database_url):
    async with running_app(database_url) as api:
        # given 60 packs over 6 clients and 2 templates
        tenant = await make_tenant()
        await _many_packs(tenant, 60)
        counts = {}
        for size in (5, 50):
            # when a page of the board is read
            with counting_statements() as counter:
                body = await api.ok(BOARD, {"first": size}, token=tenant.staff_token)
            assert len(body["packs"]["edges"]) == size
            counts[size] = len(counter.statements)
        # then the statement count does not depend on the page size
        assert counts[5] == counts[50], counts
        # auth + page + count + business + clients + templates + items + item services + services
        assert counts[50] <= 10, counter.statements


async def test_pages_follow_each_other_without_gaps_or_repeats(database_url):
    async with running_app(database_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        sold = [(await given_pack(tenant, catalog)).pack.id for _ in range(7)]
        seen, after, pages = [], None, 0
        while True:
            body = await api.ok(BOARD, {"first": 3, "after": after}, token=tenant.staff_token)
            connection = body["packs"]
            pages += 1
            seen += [edge["node"]["id"] for edge in connection["edges"]]
            assert connection["pageInfo"]["hasPreviousPage"] is (after is not None)
            assert connection["totalCount"] == 7
            if not connection["pageInfo"]["hasNextPage"]:
                break
            after = connection["pageInfo"]["endCursor"]
        assert pages == 3
        assert seen == [gid("Pack", pack_id) for pack_id in reversed(sold)]
        # after the last cursor: an empty page
        last = await api.ok(
            BOARD,
            {"first": 3, "after": connection["pageInfo"]["endCursor"]},
            token=tenant.staff_token,
        )
        assert last["packs"]["edges"] == []
        assert last["packs"]["pageInfo"] == {
            "hasNextPage": False,
            "hasPreviousPage": True,
            "startCursor": None,
            "endCursor": None,
        }
        # first: 0 says whether there is anything, without items
        empty = await api.ok(BOARD, {"first": 0}, token=tenant.staff_token)
        assert empty["packs"]["edges"] == []
        assert empty["packs"]["pageInfo"]["hasNextPage"] is True


async def test_a_cursor_stays_correct_while_packs_are_added(sqlite_url):
    async with running_app(sqlite_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        sold = [(await given_pack(tenant, catalog)).pack.id for _ in range(6)]
        first = await api.ok(BOARD, {"first": 3}, token=tenant.staff_token)
        # a new pack is sold while the user reads page 1 (it sorts first, before the cursor)
        await given_pack(tenant, catalog)
        second = await api.ok(
            BOARD,
            {"first": 3, "after": first["packs"]["pageInfo"]["endCursor"]},
            token=tenant.staff_token,
        )
        ids = [edge["node"]["id"] for edge in first["packs"]["edges"] + second["packs"]["edges"]]
        assert ids == [gid("Pack", pack_id) for pack_id in reversed(sold)]


async def test_filters(database_url):
    async with running_app(database_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        other = await catalog_domain.create_client(actor=tenant.owner, name="Zed Quinn")
        paid = (await given_pack(tenant, catalog)).pack
        await record_payment(actor=tenant.staff, amount=800_00, method="CARD", pack_id=paid.id)
        partial = (await given_pack(tenant, catalog, client_id=other.id)).pack
        await record_payment(actor=tenant.staff, amount=100_00, method="CARD", pack_id=partial.id)
        soon = (await given_pack(tenant, catalog)).pack
        await change_pack_expiry(
            actor=tenant.manager,
            pack_id=soon.id,
            expires_at=datetime.now(UTC) + timedelta(days=10),
        )
        cancelled = (await given_pack(tenant, catalog)).pack
        await cancel_pack(actor=tenant.manager, pack_id=cancelled.id, reason="moved")

        async def ids(condition: dict) -> set[str]:
            body = await api.ok(BOARD, {"filter": condition, "first": 50}, token=tenant.staff_token)
            assert body["packs"]["totalCount"] == len(body["packs"]["edges"])
            return {edge["node"]["id"] for edge in body["packs"]["edges"]}

        def of(*packs) -> set[str]:
            return {gid("Pack", pack.id) for pack in packs}

        assert await ids({"status": ["CANCELLED"]}) == of(cancelled)
        assert await ids({"status": ["ACTIVE"]}) == of(paid, partial, soon)
        assert await ids({"paymentStatus": ["PAID"]}) == of(paid)
        assert await ids({"paymentStatus": ["UNPAID", "PARTIAL"]}) == of(partial, soon, cancelled)
        assert await ids({"clientId": gid("Client", other.id)}) == of(partial)
        assert await ids({"clientId": "bm9wZQ=="}) == set()
        in_30_days = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        assert await ids({"expiringBefore": in_30_days}) == of(soon)
        assert await ids({"hasBalanceDue": True}) == of(partial, soon)
        assert await ids({"hasBalanceDue": False}) == of(paid, cancelled)
        assert await ids({"search": "zed"}) == of(partial)
        assert await ids({"search": "MASSAGES", "status": ["ACTIVE"]}) == of(paid, partial, soon)


async def test_orderings_page_correctly_with_nulls_last(database_url):
    async with running_app(database_url) as api:
        tenant = await make_tenant()
        catalog = await given_catalog(tenant)
        packs = [(await given_pack(tenant, catalog)).pack for _ in range(5)]
        # expiries: pack 3 in 5 days, pack 1 in 20 days, the others never
        for pack, days in ((packs[3], 5), (packs[1], 20)):
            await change_pack_expiry(
                actor=tenant.manager,
                pack_id=pack.id,
                expires_at=datetime.now(UTC) + timedelta(days=days),
            )
        for order, expected in (
            ("EXPIRES_AT_ASC", [3, 1, 0, 2, 4]),
            ("PURCHASED_AT_ASC", [0, 1, 2, 3, 4]),
            ("PURCHASED_AT_DESC", [4, 3, 2, 1, 0]),
            ("UPDATED_AT_DESC", None),
        ):
            seen, after = [], None
            while True:
                body = await api.ok(
                    BOARD,
                    {"first": 2, "after": after, "orderBy": order},
                    token=tenant.staff_token,
                )
                seen += [edge["node"]["id"] for edge in body["packs"]["edges"]]
                if not body["packs"]["pageInfo"]["hasNextPage"]:
                    break
                after = body["packs"]["pageInfo"]["endCursor"]
            if expected is None:
                assert sorted(seen) == sorted(gid("Pack", pack.id) for pack in packs)
            else:
                assert seen == [gid("Pack", packs[n].id) for n in expected], order
        # a cursor of one ordering is refused by another
        body = await api.run(
            BOARD, {"first": 2, "after": after, "orderBy": "NAME_ASC"}, token=tenant.staff_token
        )
        assert body["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"
