"""Idempotency keys for redeeming operations: a retry returns the first result, changing nothing.

The record is inserted at the *start* of the operation's transaction. A concurrent duplicate
blocks on the unique index (business, key) until the first commits, then fails the insert; it
rolls back and replays the stored result. If the first rolls back instead, the duplicate's insert
succeeds and it runs normally. The result is stored as the IDs of the rows it names and reloaded
on replay, so a replay returns the same pack, entry, line and invoice.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.models import Model

from packgraph import models
from packgraph.domain.actor import Actor
from packgraph.domain.errors import DomainError, ErrorCode, invalid
from packgraph.domain.transaction import write_transaction
from packgraph.models import IdempotencyRecord

Result = TypeVar("Result")


def _fingerprint(request: dict[str, Any]) -> str:
    text = json.dumps(request, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _dump(result: Any) -> dict[str, Any]:
    stored: dict[str, Any] = {}
    for field in dataclasses.fields(result):
        value = getattr(result, field.name)
        if isinstance(value, Model):
            stored[field.name] = {"model": type(value).__name__, "id": value.pk}
        elif isinstance(value, list | tuple) and all(isinstance(v, Model) for v in value):
            stored[field.name] = [{"model": type(v).__name__, "id": v.pk} for v in value]
        elif value is None or isinstance(value, bool | int | str):
            stored[field.name] = value
    return stored


async def _load_value(value: Any) -> Any:
    if isinstance(value, dict) and "model" in value:
        model: type[Model] = getattr(models, value["model"])
        return await model.get_or_none(id=value["id"])
    if isinstance(value, list):
        return [await _load_value(v) for v in value]
    return value


async def _replay(
    record: IdempotencyRecord, *, operation: str, fingerprint: str, result_type: type[Result]
) -> Result:
    if record.operation != operation or record.result.get("request") != fingerprint:
        raise DomainError(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            "this idempotency key was already used for a different request",
            "idempotencyKey",
        )
    stored = record.result.get("fields", {})
    values = {name: await _load_value(value) for name, value in stored.items()}
    names = {field.name for field in dataclasses.fields(result_type)}  # type: ignore[arg-type]
    if "replayed" in names:
        values["replayed"] = True
    return result_type(**values)


async def run_idempotent(
    *,
    actor: Actor,
    key: str | None,
    operation: str,
    request: dict[str, Any],
    result_type: type[Result],
    body: Callable[[BaseDBAsyncClient], Awaitable[Result]],
) -> Result:
    """Run ``body`` in one write transaction, at most once per ``key``.

    ``request`` (the operation's arguments) is fingerprinted: the same key with other arguments,
    or for another operation, raises IDEMPOTENCY_KEY_REUSED.
    """
    if key is None:
        async with write_transaction(actor.business_id) as conn:
            return await body(conn)
    key = key.strip()
    if not key or len(key) > 200:
        raise invalid("idempotency key must be 1 to 200 characters", "idempotencyKey")
    fingerprint = _fingerprint(request)
    existing = await IdempotencyRecord.get_or_none(business_id=actor.business_id, key=key)
    if existing is not None:
        return await _replay(
            existing, operation=operation, fingerprint=fingerprint, result_type=result_type
        )
    try:
        async with write_transaction(actor.business_id) as conn:
            record = await IdempotencyRecord.create(
                business_id=actor.business_id,
                key=key,
                operation=operation,
                result={"request": fingerprint},
                using_db=conn,
            )
            result = await body(conn)
            await (
                IdempotencyRecord.filter(id=record.id)
                .using_db(conn)
                .update(result={"request": fingerprint, "fields": _dump(result)})
            )
            return result
    except IntegrityError:
        existing = await IdempotencyRecord.get_or_none(business_id=actor.business_id, key=key)
        if existing is None:
            raise
        return await _replay(
            existing, operation=operation, fingerprint=fingerprint, result_type=result_type
        )
