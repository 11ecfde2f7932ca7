"""Root mutation fields, one class per area. Each takes one `input` and returns a payload with
`userErrors`; resolvers live in :mod:`packgraph.resolvers`."""

from __future__ import annotations

import strawberry

from packgraph.resolvers import accounts as account_resolvers
from packgraph.resolvers import catalog_mutations as catalog_resolvers
from packgraph.resolvers import pack_mutations as pack_resolvers
from packgraph.resolvers import visit_mutations as visit_resolvers
from packgraph.schema.accounts import (
    CreateApiKeyPayload,
    LoginPayload,
    RevokeApiKeyPayload,
    UpdateBusinessSettingsPayload,
)
from packgraph.schema.catalog_mutations import (
    ArchivePackTemplatePayload,
    CreateClientPayload,
    CreatePackTemplatePayload,
    CreateServicePayload,
    SetClientBillingPreferencePayload,
    UpdateClientPayload,
    UpdatePackTemplatePayload,
    UpdateServicePayload,
)
from packgraph.schema.pack_mutations import (
    AddPackNotePayload,
    CancelPackPayload,
    ChangePackExpiryPayload,
    CompleteTaskPayload,
    CorrectPackBalancePayload,
    DeletePackPayload,
    RecordPaymentPayload,
)
from packgraph.schema.visit_mutations import (
    AllocateInvoiceLinePayload,
    CancelAppointmentPayload,
    CheckInAppointmentPayload,
    CreateAppointmentPayload,
    DeleteAppointmentPayload,
    MarkNoShowPayload,
    MoveAllocationsPayload,
    RedeemSessionPayload,
    SellPackPayload,
    UnallocateInvoiceLinePayload,
)

MANAGERS = " Owners and managers only."


@strawberry.type(description="Logging in, API keys and business settings.")
class AccountMutations:
    login: LoginPayload = strawberry.mutation(
        resolver=account_resolvers.login,
        description="Exchange a staff email and password for a bearer token. The only operation "
        "that works without a token. Failed attempts are rate-limited per email and address.",
    )
    create_api_key: CreateApiKeyPayload = strawberry.mutation(
        resolver=account_resolvers.create_api_key,
        description="Create an integration API key (read and subscribe only)." + MANAGERS,
    )
    revoke_api_key: RevokeApiKeyPayload = strawberry.mutation(
        resolver=account_resolvers.revoke_api_key,
        description="Revoke an API key: its token stops working at once." + MANAGERS,
    )
    update_business_settings: UpdateBusinessSettingsPayload = strawberry.mutation(
        resolver=account_resolvers.update_business_settings,
        description="Change the business's name, timezone, currency or pack rules." + MANAGERS,
    )


@strawberry.type(description="Clients, services and pack templates.")
class CatalogMutations:
    create_client: CreateClientPayload = strawberry.mutation(
        resolver=catalog_resolvers.create_client, description="Add a client."
    )
    update_client: UpdateClientPayload = strawberry.mutation(
        resolver=catalog_resolvers.update_client, description="Change a client's details."
    )
    set_client_billing_preference: SetClientBillingPreferencePayload = strawberry.mutation(
        resolver=catalog_resolvers.set_client_billing_preference,
        description="Set the pack or service a client's new appointments use by default.",
    )
    create_service: CreateServicePayload = strawberry.mutation(
        resolver=catalog_resolvers.create_service, description="Add a service." + MANAGERS
    )
    update_service: UpdateServicePayload = strawberry.mutation(
        resolver=catalog_resolvers.update_service, description="Change a service." + MANAGERS
    )
    create_pack_template: CreatePackTemplatePayload = strawberry.mutation(
        resolver=catalog_resolvers.create_pack_template,
        description="Add a pack template to sell from." + MANAGERS,
    )
    update_pack_template: UpdatePackTemplatePayload = strawberry.mutation(
        resolver=catalog_resolvers.update_pack_template,
        description="Change a template; packs already sold keep what they were sold with."
        + MANAGERS,
    )
    archive_pack_template: ArchivePackTemplatePayload = strawberry.mutation(
        resolver=catalog_resolvers.archive_pack_template,
        description="Stop (or resume) offering a template for sale." + MANAGERS,
    )


@strawberry.type(description="Selling, visits and redemptions.")
class VisitMutations:
    sell_pack: SellPackPayload = strawberry.mutation(
        resolver=visit_resolvers.sell_pack,
        description="Sell a pack: creates the pack and its PACK_SALE invoice line; optionally "
        "redeems the first session. Emits PACK_SOLD.",
    )
    create_appointment: CreateAppointmentPayload = strawberry.mutation(
        resolver=visit_resolvers.create_appointment,
        description="Book a visit; the client's billing setup picks the pack or service.",
    )
    check_in_appointment: CheckInAppointmentPayload = strawberry.mutation(
        resolver=visit_resolvers.check_in_appointment,
        description="Mark a visit ATTENDED and charge it, deducting from the best eligible pack "
        "(chosen, preferred, soonest expiring, oldest). Emits SESSION_REDEEMED.",
    )
    mark_no_show: MarkNoShowPayload = strawberry.mutation(
        resolver=visit_resolvers.mark_no_show,
        description="Mark a visit NO_SHOW; deducts only when the business redeems on no-shows.",
    )
    cancel_appointment: CancelAppointmentPayload = strawberry.mutation(
        resolver=visit_resolvers.cancel_appointment,
        description="Cancel a visit; its redemption is reversed (REDEMPTION_REVERSED).",
    )
    delete_appointment: DeleteAppointmentPayload = strawberry.mutation(
        resolver=visit_resolvers.delete_appointment,
        description="Delete a visit. It is kept (and reported by the count investigation).",
    )
    redeem_session: RedeemSessionPayload = strawberry.mutation(
        resolver=visit_resolvers.redeem_session,
        description="Deduct from a pack without an appointment (walk-in). Emits SESSION_REDEEMED.",
    )
    allocate_invoice_line: AllocateInvoiceLinePayload = strawberry.mutation(
        resolver=visit_resolvers.allocate_invoice_line,
        description="Allocate an existing SERVICE line to a pack, deducting from it, also "
        "retrospectively.",
    )
    unallocate_invoice_line: UnallocateInvoiceLinePayload = strawberry.mutation(
        resolver=visit_resolvers.unallocate_invoice_line,
        description="Remove the pack from a line; the unit goes back (REDEMPTION_REVERSED).",
    )
    move_allocations: MoveAllocationsPayload = strawberry.mutation(
        resolver=visit_resolvers.move_allocations,
        description="Move every allocated line from one pack to another in one step, all or "
        "nothing. Emits ALLOCATIONS_MOVED.",
    )


@strawberry.type(description="Pack repairs, payments, notes and tasks.")
class PackMutations:
    correct_pack_balance: CorrectPackBalancePayload = strawberry.mutation(
        resolver=pack_resolvers.correct_pack_balance,
        description="Mark units used (negative delta) or give them back (positive), with a "
        "reason. Emits PACK_CORRECTED." + MANAGERS,
    )
    change_pack_expiry: ChangePackExpiryPayload = strawberry.mutation(
        resolver=pack_resolvers.change_pack_expiry,
        description="Change or remove a pack's expiry. Emits EXPIRY_CHANGED." + MANAGERS,
    )
    cancel_pack: CancelPackPayload = strawberry.mutation(
        resolver=pack_resolvers.cancel_pack,
        description="Cancel a pack with an optional refund. Emits PACK_CANCELLED." + MANAGERS,
    )
    delete_pack: DeletePackPayload = strawberry.mutation(
        resolver=pack_resolvers.delete_pack,
        description="Delete a pack with no allocated lines. Emits PACK_DELETED." + MANAGERS,
    )
    record_payment: RecordPaymentPayload = strawberry.mutation(
        resolver=pack_resolvers.record_payment,
        description="Record a payment (or refund) for a pack or invoice; over-payment is "
        "refused. Emits PAYMENT_RECORDED.",
    )
    add_pack_note: AddPackNotePayload = strawberry.mutation(
        resolver=pack_resolvers.add_pack_note,
        description="Add a note to a pack. Emits NOTE_ADDED.",
    )
    complete_task: CompleteTaskPayload = strawberry.mutation(
        resolver=pack_resolvers.complete_task, description="Mark a task done."
    )


MUTATION_AREAS: list[type] = [AccountMutations, CatalogMutations, VisitMutations, PackMutations]
