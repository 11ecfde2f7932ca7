"""The pack investigation, "why is the count wrong?" (SPEC §1.8): the AcuBliss detective work done
for the user, with one finding per cause and the mutation that fixes it.

Words used below (dates are calendar days in the business timezone):

- *purchase day*: the day of ``pack.purchased_at``.
- *usable*: a moment is inside the pack's usable time when it is before ``expires_at`` and before
  ``cancelled_at`` (when they are set).
- *visit*: an invoice SERVICE line of the pack's client, or an appointment of the client. Its
  *moment* is the appointment's start (else the line's creation time); its *day* is the
  appointment's day (else the invoice's ``issued_on``).
- *uncounted line*: a SERVICE line allocated to no pack, whose appointment (if any) is not
  CANCELLED or NO_SHOW, and that was never given back: a line once allocated and then
  unallocated ("red X") or moved carries a REVERSAL entry and was removed on purpose.
- *eligible*: the service is one of an item's services. *Room*: an eligible item whose ledger
  total just before the line was charged (for a visit without a line: its moment), plus the
  visit's units, is within its allowance; the finding names the first such item (primary-key
  order, the order deduction uses). So a visit charged at the full price because the pack was
  used up at the time is not reported.

The codes, in the order findings are listed:

- ``LEDGER_MISMATCH``: an item whose stored ``used`` differs from the sum of its ledger entries.
  Must never occur. No fix; the ledger is taken as the truth for ``expectedUsed``.
- ``PACK_NOT_PAID``: the business redeems only fully paid packs and this pack is open (ACTIVE,
  not deleted, not past its expiry) and not PAID. Fix ``recordPayment`` of the balance due.
  Names no visit: the visits it blocked are reported under their own codes.
- ``FIRST_SESSION_NOT_DEDUCTED``: the first (by moment) uncounted line for an eligible service on
  the purchase day, usable and with room, when no line allocated to this pack is dated on the
  purchase day ("use first session" was not ticked). Fix ``allocateInvoiceLine``.
- ``LINE_NOT_ALLOCATED``: any other uncounted line for an eligible service dated on or after the
  purchase day, usable and with room (the pack had balance). Fix ``allocateInvoiceLine``.
- ``BILLED_BEFORE_PURCHASE``: an uncounted line for an eligible service dated in the
  ``BILLED_BEFORE_DAYS`` days before the purchase day. Fix ``allocateInvoiceLine`` (the line
  becomes ``retrospective``).
- ``SERVICE_NOT_IN_PACK``: an uncounted line dated on or after the purchase day and usable, for a
  service that is not eligible but of the same kind: its name starts with the same word as an
  eligible service's ("Massage 90" for a "Massage 60" pack), or its appointment chose this pack.
  Fix ``changeAppointmentService`` (``changeInvoiceLineService`` for a line without a visit on
  the schedule) to the item's service of the same kind (else its first), with this pack: the
  line is re-priced and deducted, so the visit is charged once (SPEC §6.1). ``units`` are the
  new service's. A manager's ``correctPackBalance`` whose reason names the line (``[line N]``,
  paper-card history from before) still resolves the finding, but is no longer offered.
- ``APPOINTMENT_NOT_CHECKED_IN``: a not-deleted BOOKED appointment that has started, for an
  eligible service, dated on or after the purchase day, usable and with room. Fix
  ``checkInAppointment`` (auto-allocation then picks the pack, SPEC §1.4).
- ``APPOINTMENT_NO_CHARGE``: a not-deleted ATTENDED appointment without a SERVICE line (checked in
  with "no charge"), otherwise as above. Fix ``chargeAppointment`` to this pack.
- ``APPOINTMENT_DELETED``: a deleted appointment without a SERVICE line that was ATTENDED, or
  BOOKED and has started, otherwise as above. Fix ``chargeAppointment`` to this pack. (A deleted
  appointment that was charged is judged by its line.)

``units`` is what the finding's visit would deduct. A finding is ``counted`` when the pack's own
rules would have deducted it, i.e. every visit code above except BILLED_BEFORE_PURCHASE (a pack
covers visits from its purchase day on), SERVICE_NOT_IN_PACK and a deleted appointment that was
never checked in (nothing says the client came). Per item, ``expected_used`` is the ledger total
plus the units of its counted findings, capped at the allowance: the count the pack should show,
and what it shows once every counted finding's fix is applied.

A fix is offered only when the actor may apply it (staff roles) and it can succeed now:
deducting fixes need the pack open (ACTIVE, not deleted, not past its expiry), paid when the
business requires it, with the units left on the item. Fix
inputs name objects with :class:`Ref`; the API turns them into global IDs.

Diagnosing costs a fixed number of queries, however many visits the client has.
"""

from __future__ import annotations

from datetime import datetime

from packgraph.domain.actor import Actor
from packgraph.domain.clock import utcnow
from packgraph.domain.diagnosis.evidence import BILLED_BEFORE_DAYS, Evidence
from packgraph.domain.diagnosis.findings import (
    DEFAULT_PAYMENT_METHOD,
    LINE_MARKER,
    Finding,
    FindingCode,
    Fix,
    ItemDiagnosis,
    PackDiagnosis,
    Ref,
)
from packgraph.domain.diagnosis.investigation import Investigation
from packgraph.domain.errors import not_found
from packgraph.models import Pack

__all__ = [
    "BILLED_BEFORE_DAYS",
    "DEFAULT_PAYMENT_METHOD",
    "LINE_MARKER",
    "Finding",
    "FindingCode",
    "Fix",
    "ItemDiagnosis",
    "PackDiagnosis",
    "Ref",
    "diagnose_pack",
]


async def diagnose_pack(
    *, actor: Actor, pack_id: int, now: datetime | None = None
) -> PackDiagnosis:
    """Investigate a pack's count (any role, integrations included; read only).

    Unknown packs and packs of another business raise NOT_FOUND. See the package docstring for
    what each finding means and when a fix is offered.
    """
    now = now or utcnow()
    pack = await Pack.get_or_none(id=pack_id, business_id=actor.business_id)
    if pack is None:
        raise not_found("pack", "packId")
    evidence = await Evidence.load(actor, pack)
    return Investigation(actor, evidence, now).run()
