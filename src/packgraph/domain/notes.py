"""Notes on a pack ("agreed to pay 5k Ft per visit"), with their author and time."""

from __future__ import annotations

from dataclasses import dataclass

from packgraph.domain.actor import Actor
from packgraph.domain.errors import invalid
from packgraph.domain.events import append_event
from packgraph.domain.status import lock_pack
from packgraph.domain.transaction import write_transaction
from packgraph.models import EventType, Pack, PackNote

MAX_NOTE_LENGTH = 5000


@dataclass(frozen=True)
class NoteResult:
    note: PackNote
    pack: Pack


def clean_note_text(text: str) -> str:
    """The note as stored: trimmed, non-empty, at most ``MAX_NOTE_LENGTH`` characters."""
    text = (text or "").strip()
    if not text:
        raise invalid("a note needs some text", "text")
    if len(text) > MAX_NOTE_LENGTH:
        raise invalid(f"a note is at most {MAX_NOTE_LENGTH} characters", "text")
    return text


async def add_pack_note(*, actor: Actor, pack_id: int, text: str) -> NoteResult:
    """Add a note to a pack. Any staff role may; integrations only read.

    Notes may be added to packs in any status (a cancelled pack's refund arrangement is worth
    writing down), but not to deleted packs, which behave as unknown. Emits NOTE_ADDED.
    """
    actor.require_staff()
    text = clean_note_text(text)
    async with write_transaction(actor.business_id) as conn:
        pack = await lock_pack(conn, pack_id=pack_id, actor=actor)
        note = await PackNote.create(
            business_id=actor.business_id,
            pack_id=pack.id,
            text=text,
            staff_id=actor.staff_id,
            using_db=conn,
        )
        await append_event(
            conn,
            actor=actor,
            type=EventType.NOTE_ADDED,
            pack_id=pack.id,
            client_id=pack.client_id,
            payload={"noteId": note.id, "text": text},
        )
    return NoteResult(note=note, pack=pack)
