"""Search (SPEC §6.7): every word of the text must appear, whatever its case and accents, in the
pack's name or its client's name, phone (digits only) or email. The clients list searches the
client's own name, phone and email.

Databases cannot strip accents portably, so text is normalised here when a row is written, into
``Pack.search_name`` and ``Client.search_text``; a search normalises its words the same way and
matches each one with ``LIKE '%word%'`` in SQL. The dashboard applies the same rule to live cards
(frontend/src/lib/search.ts), and both are tested against one table of cases
(frontend/src/lib/searchCases.json).

Normalising: NFKD (``é`` becomes ``e`` plus a combining accent, ``ﬁ`` becomes ``fi``, a full-width
``０`` becomes ``0``), lower case, combining marks dropped, and the few letters NFKD leaves whole
spelled out (``æ`` as ``ae``, ``ø`` as ``o``, ``ß`` as ``ss``, ...). The words of a search are then
its runs of letters and digits: punctuation separates them like spaces do. A stored field keeps
its spaces but drops its punctuation, so ``O'Brien`` is stored ``obrien`` and found by ``o'brien``,
``o brien`` and ``obrien``; ``Anne-Marie`` by ``anne marie``. A phone is stored as its digits
only, so a word can match it only when the word is all digits: ``0412 345 678`` is found by
``0412345678``, ``0412-345-678`` and ``345``, not by ``ph0412``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from tortoise.expressions import Q, Subquery

from packgraph.models import Client

# Letters without a decomposition that people type without their stroke or ligature. The
# dashboard has the same table (frontend/src/lib/search.ts).
FOLDED = {
    "æ": "ae",
    "œ": "oe",
    "ø": "o",
    "ß": "ss",
    "ð": "d",
    "đ": "d",
    "ħ": "h",
    "ı": "i",
    "ł": "l",
    "ŧ": "t",
    "þ": "th",
    "ς": "σ",  # final sigma, so a word matches inside a longer one
}
# JavaScript's and Python's own whitespace classes differ; this is the one both sides use.
SEPARATORS = frozenset("\t\n\v\f\r")
# A board search word matching more clients than this looks them up in a subquery.
SEARCH_CLIENT_IDS = 1000
# Each word of a board search costs a look-up of the business's clients: longer texts are refused
# (a name, a phone and an email together are well under it).
MAX_SEARCH_WORDS = 16


def _is_separator(char: str) -> bool:
    return char in SEPARATORS or unicodedata.category(char) in ("Zs", "Zl", "Zp")


def _is_kept(char: str) -> bool:
    return unicodedata.category(char)[0] in ("L", "N")


def _folded(text: str) -> str:
    """NFKD, lower case, without combining marks, with FOLDED spelled out."""
    lowered = unicodedata.normalize("NFKD", text).lower()
    return "".join(
        FOLDED.get(char, char) for char in lowered if unicodedata.category(char)[0] != "M"
    )


def normalised_words(text: str) -> list[str]:
    """The words of a search text (see the module docstring), in order."""
    spaced = "".join(char if _is_kept(char) else " " for char in _folded(text))
    return spaced.split()


def normalise(text: str) -> str:
    """A field as its search column stores it: its words without punctuation, one space apart."""
    spaced = "".join(" " if _is_separator(char) else char for char in _folded(text))
    words = ("".join(char for char in word if _is_kept(char)) for word in spaced.split(" "))
    return " ".join(word for word in words if word)


def phone_digits(phone: str) -> str:
    """The digits of a phone number (full-width ones as ASCII), nothing else."""
    return "".join(
        char for char in unicodedata.normalize("NFKD", phone) if unicodedata.category(char) == "Nd"
    )


def pack_search_name(name: str) -> str:
    """``Pack.search_name``: the pack's name normalised."""
    return normalise(name)


def client_search_text(*, name: str, email: str = "", phone: str = "") -> str:
    """``Client.search_text``: name, phone digits and email, each field a separate word group so
    no word matches across two of them."""
    parts = (normalise(name), phone_digits(phone), normalise(email))
    return " ".join(part for part in parts if part)


def changed_client_search_text(client: Client, changes: Mapping[str, Any]) -> str:
    """``client``'s search text once ``changes`` (field name -> new value) are applied."""
    return client_search_text(
        name=changes.get("name", client.name),
        email=changes.get("email", client.email),
        phone=changes.get("phone", client.phone),
    )


def search_words(text: str | None) -> list[str]:
    """The distinct words a search must match; none (match everything) for empty text.

    A word inside another word is dropped: wherever the longer one matches, so does it.
    """
    words = list(dict.fromkeys(normalised_words(text or "")))
    return [word for word in words if not any(word in other for other in words if other != word)]


def client_search_filter(text: str | None) -> Q | None:
    """The condition on ``Client`` rows for the clients list's ``search``; None: no condition."""
    words = search_words(text)
    if not words:
        return None
    return Q(*(Q(search_text__contains=word) for word in words), join_type=Q.AND)


async def pack_search_filter(*, business_id: int, text: str | None) -> Q | None:
    """The condition on ``Pack`` rows for the board's ``search``; None: no condition.

    Each word must be in the pack's name or its client's search text. The clients matching a word
    are read first (a trigram index on PostgreSQL), so the packs are then found through
    pack_business_client: joining client to pack would scan every pack of the business. A word
    that matches very many clients stays a subquery: the newest-first walk then fills a page after
    a few rows anyway. Client search text lives only on the client row, so editing a client
    rewrites no pack.
    """
    words = search_words(text)
    if not words:
        return None
    conditions = []
    for word in words:
        clients = Client.filter(business_id=business_id, search_text__contains=word)
        ids = await clients.limit(SEARCH_CLIENT_IDS + 1).values_list("id", flat=True)
        matching: list[int] | Subquery = list(ids)
        if len(ids) > SEARCH_CLIENT_IDS:
            matching = Subquery(clients.values("id"))
        conditions.append(Q(search_name__contains=word) | Q(client_id__in=matching))
    return Q(*conditions, join_type=Q.AND)
