"""Operations generated from the schema (hypothesis-graphql) with valid tokens, through the real
app: never a 5xx, never an internal message, never a masked bug, never another business's data,
and afterwards every ledger invariant holds and the other business is exactly as it was.

The generated documents carry their values inline; IDs are drawn from both businesses' real IDs
and from malformed ones, strings from all of Unicode (NUL, lone surrogates, RTL marks, emoji),
integers from the whole 32-bit range. ``Mode.NEGATIVE`` documents each break the schema once
(wrong types, missing arguments, unknown enum values).

``PACKGRAPH_FUZZ_EXAMPLES`` raises the number of examples per strategy (a soak run, with a new
random seed each time); the default keeps this file well under a minute.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
from collections import Counter
from typing import Any

import graphql
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries

from packgraph.models import Role
from tests.api.matrix import graphql_schema, snapshot, tenant_with_everything
from tests.api.support import gid, make_tenant, running_app
from tests.hardening.support import broken_invariants, clean_json

log = logging.getLogger("packgraph.hardening")

SOAK = "PACKGRAPH_FUZZ_EXAMPLES" in os.environ
EXAMPLES = int(os.environ.get("PACKGRAPH_FUZZ_EXAMPLES", "60"))

NODE_TYPES = (
    "Client",
    "Service",
    "PackTemplate",
    "Pack",
    "PackItem",
    "Invoice",
    "InvoiceLine",
    "Appointment",
    "Task",
    "ApiKey",
    "Payment",
)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8", "surrogatepass")).decode()


# Global IDs no business owns: unknown, zero, negative, beyond 32 and 64 bits, not a number,
# not base64, of an unknown type, empty, full of control characters.
MALFORMED_IDS = [
    gid("Pack", 987654),
    gid("Pack", 0),
    _b64("Pack:-1"),
    _b64("Pack:2147483648"),
    _b64("Pack:99999999999999999999999999"),
    _b64("Pack:1e3"),
    _b64("Pack: 1"),
    _b64("Pack:１"),
    _b64("Nope:1"),
    _b64("Pack"),
    _b64(":"),
    _b64("Pack:\x00"),
    _b64("\ud800:1"),
    "not base64!",
    "====",
    "",
    "\x00",
    "1",
    "-1",
    "A" * 5000,
]

WEIRD_DATES = ["0001-01-01", "9999-12-31", "2024-02-30", "2024-13-01", "", "today", "\u202e2024"]
WEIRD_DATETIMES = [
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59+14:00",
    "9999-12-31T23:59:59-12:00",
    "2024-06-01T10:00:00",
    "2024-06-01T25:00:00Z",
    "1e9",
    "",
]


def _string(value: str) -> graphql.StringValueNode:
    return nodes.String(value)


def custom_scalars(own: dict[str, str], other: dict[str, str]) -> dict[str, Any]:
    own_ids = [own[name] for name in NODE_TYPES if name in own]
    ids = st.one_of(
        st.sampled_from(own_ids),  # mostly real IDs, so mutations reach the domain
        st.sampled_from(own_ids),
        st.sampled_from(list(other.values())),
        st.sampled_from(MALFORMED_IDS),
    )
    return {
        "ID": ids.map(_string),
        "Date": st.one_of(
            st.dates().map(lambda day: day.isoformat()), st.sampled_from(WEIRD_DATES)
        ).map(_string),
        "DateTime": st.one_of(
            st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat()),
            st.sampled_from(WEIRD_DATETIMES),
        ).map(_string),
        "JSON": st.just(nodes.String("{}")),
    }


def _data_strings(value: Any, found: list[str]) -> list[str]:
    """Every string inside ``data`` except error messages (which may quote the request)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key != "message":
                _data_strings(inner, found)
    elif isinstance(value, list):
        for inner in value:
            _data_strings(inner, found)
    elif isinstance(value, str):
        found.append(value)
    return found


async def test_generated_operations_are_answered_safely_and_keep_every_invariant(database_url):
    async with running_app(database_url, login_max_attempts=1000) as api:
        # given two businesses with one of everything, and every kind of token of the first
        alpha = await tenant_with_everything(await make_tenant("Alpha"), "Alpha")
        beta = await tenant_with_everything(await make_tenant("Beta"), "Beta")
        beta_before = await snapshot(beta.tenant.id)
        tokens = [alpha.tenant.tokens[role] for role in Role] + [None]
        schema = graphql_schema()
        scalars = custom_scalars(alpha.ids, beta.ids)
        documents = st.one_of(
            queries(schema, custom_scalars=scalars),
            queries(schema, custom_scalars=scalars, codec=None),
            mutations(schema, custom_scalars=scalars),
            mutations(schema, custom_scalars=scalars, codec=None),
            queries(schema, custom_scalars=scalars, mode=Mode.NEGATIVE),
            mutations(schema, custom_scalars=scalars, mode=Mode.NEGATIVE),
        )
        loop = asyncio.get_running_loop()
        outcomes: Counter[str] = Counter()
        beta_values = set(beta.ids.values())

        # when hypothesis sends generated operations with valid (and missing) tokens
        @settings(
            max_examples=EXAMPLES * 6,
            deadline=None,
            database=None,
            derandomize=not SOAK,
            suppress_health_check=list(HealthCheck),
        )
        @given(document=documents, token=st.sampled_from(tokens))
        def send(document: str, token: str | None) -> None:
            response = asyncio.run_coroutine_threadsafe(
                api.post(document, token=token), loop
            ).result(60)
            # then every answer is safe
            body = clean_json(response, echo=document)
            data = body.get("data") if isinstance(body, dict) else None
            leaked = [
                value
                for value in _data_strings(data, [])
                if value in beta_values or "Beta" in value
            ]
            assert leaked == [], (document, leaked)
            if not data:
                outcomes["refused (top-level error)"] += 1
            elif '"userErrors": [{' in json.dumps(data):
                outcomes["userErrors"] += 1
            else:
                outcomes["ran"] += 1

        await asyncio.to_thread(send)
        log.info("generated operations: %s", dict(outcomes))
        assert sum(outcomes.values()) >= EXAMPLES

        # then the ledger, the cached balances and the outbox still agree everywhere
        assert await broken_invariants() == []
        # and the other business is exactly as it was
        assert await snapshot(beta.tenant.id) == beta_before
        # and the server still serves a plain query
        data = await api.ok("{ viewer { name } }", token=alpha.tenant.owner_token)
        assert data["viewer"]["name"] == "Alpha Owner"
