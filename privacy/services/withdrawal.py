"""Consent withdrawn on request (Art. 7(3)): the ticket's work, through `consent_withdraw`.

A withdrawal ticket (a kind an app registered, e.g. loyalty's "stop recognising my eID card",
asked on the public form and confirmed by the link) runs the same one action as a withdrawal at
the counter: a record in the consent log and the apps' withdrawal hooks (loyalty unlinks the
eID card; the member keeps number and points). The ticket keeps counts only, and the
customer is told by e-mail.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from privacy.models import (
    Channel,
    PrivacyTicket,
    TicketSource,
    TicketState,
)
from privacy.registry import registry
from privacy.selectors import (
    WITHDRAWAL_RECORDS_APPENDED,
    consent_in_force,
    withdrawal_found_nothing,
)
from privacy.services.consent import consent_withdraw
from privacy.services.tickets import _notify_on_commit, ticket_move

logger = logging.getLogger(__name__)

# Counts every withdrawal ticket keeps; the apps' hooks add their own (e.g. eid_cards_unlinked).
CONSENT_WAS_GIVEN = "consent_given_before"


def withdrawal_execute(*, ticket_id: int) -> PrivacyTicket | None:
    """Withdraw the consent a scheduled withdrawal ticket asks for; complete it; tell the person.

    Returns the ticket, or None if it does not exist. Does nothing to a ticket that is not
    scheduled (already completed, or rejected meanwhile), so running it twice is harmless.
    A subject erased meanwhile has nothing left to withdraw: the ticket completes saying so.
    """
    with transaction.atomic():
        ticket = (
            PrivacyTicket.objects.select_for_update()
            .filter(pk=ticket_id, kind__in=list(registry.withdrawal_kinds))
            .first()
        )
        if ticket is None or ticket.state != TicketState.SCHEDULED:
            return ticket
        purpose = registry.withdrawal_kinds[ticket.kind].purpose
        subject = registry.subject_get(ticket.subject_key) if ticket.subject_key else None
        counts: dict[str, int] = {}
        if subject is not None:
            in_force = consent_in_force(subject_key=subject.key, purpose=purpose)
            withdrawal = consent_withdraw(
                subject_key=subject.key,
                purpose=purpose,
                channel=(
                    Channel.WEB
                    if ticket.source == TicketSource.PUBLIC_FORM
                    else Channel.STAFF_PORTAL
                ),
                language=ticket.language,
                store=ticket.store,
                staff=ticket.opened_by,
            )
            counts = {
                CONSENT_WAS_GIVEN: int(in_force is not None),
                WITHDRAWAL_RECORDS_APPENDED: len(withdrawal.records),
                **withdrawal.counts,
            }
        now = timezone.now()
        ticket.result_counts = dict(sorted(counts.items()))
        if subject is None:
            note = "nothing to withdraw: the person is no longer known"
        elif withdrawal_found_nothing(ticket):
            note = "nothing to withdraw: no consent in force, nothing linked; withdrawal recorded"
        else:
            note = "consent withdrawn"
        ticket_move(ticket, TicketState.COMPLETED, note=note, at=now)
        ticket.completed_at = now
        ticket.save(update_fields=["completed_at", "result_counts"])
        if subject is not None:
            _notify_on_commit(ticket.pk, "completed")
    logger.info("privacy ticket %s: withdrawal completed %s", ticket.pk, ticket.result_counts)
    return ticket
