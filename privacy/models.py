"""Privacy notices, the consent log, erasure and access tickets.

Nothing here knows which app holds a member's data: a data subject is a pseudonymous key
("member:42", "scan:9f3c...") that apps resolve through `privacy.registry`. Purposes, channels
and ticket kinds are strings too, their choices the ones apps registered there.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.errors import NoticeImmutable
from privacy.registry import channel_choices, purpose_choices, ticket_kind_choices
from stores.models import CustomerLanguage, ReaderDevice, Store


class Channel(models.TextChoices):
    """Privacy's own channels; apps register theirs (e.g. an eID reader at the counter)."""

    WEB = "web", _("On the website")
    STAFF_PORTAL = "staff_portal", _("Through the staff portal")


class ConsentGiver(models.TextChoices):
    """Who gave a consent: the person concerned, or for a child the holder of parental
    responsibility (GDPR Art. 8; Belgian law of 30 July 2018, art. 7)."""

    SUBJECT = "subject", _("The person concerned")
    GUARDIAN = "guardian", _("A parent or guardian")


class NoticeVersion(models.Model):
    """One published text of a privacy notice, for one purpose in one language. Immutable."""

    purpose = models.CharField(verbose_name=_("purpose"), max_length=32, choices=purpose_choices)
    language = models.CharField(
        verbose_name=_("language"), max_length=2, choices=CustomerLanguage.choices
    )
    version = models.PositiveIntegerField(
        verbose_name=_("version"),
    )
    text = models.TextField(
        verbose_name=_("text"),
    )
    content_hash = models.CharField(
        verbose_name=_("content hash"),
        max_length=64,
        unique=True,
        help_text=_("SHA-256, see notices"),
    )
    published_at = models.DateTimeField(
        verbose_name=_("published at"),
    )

    class Meta:
        verbose_name = _("privacy notice version")
        verbose_name_plural = _("privacy notice versions")
        ordering = ["purpose", "language", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["purpose", "language", "version"], name="notice_version_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} {self.language} v{self.version}"

    def save(self, *args, **kwargs):
        # A consent record proves which text was shown; that text must never change under it.
        if self.pk is not None:
            raise NoticeImmutable()
        super().save(*args, **kwargs)


class ConsentAction(models.TextChoices):
    GIVEN = "given", _("Given")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ConsentRecord(models.Model):
    """One append-only entry of the consent log, hash-chained to the one before it.

    The chain covers `subject_digest` (a keyed hash of the subject key), not the key itself, so
    erasure can clear `subject_key` and the chain still verifies. `refers_to` carries a consent
    given before the subject was known (an armed eID scan) over to the member it turned out to be.
    """

    seq = models.PositiveBigIntegerField(verbose_name=_("seq"), unique=True)
    subject_key = models.CharField(  # noqa: DJ001
        verbose_name=_("subject key"), max_length=64, null=True, blank=True, db_index=True
    )
    subject_digest = models.CharField(
        verbose_name=_("subject digest"), max_length=64, db_index=True
    )
    purpose = models.CharField(verbose_name=_("purpose"), max_length=32, choices=purpose_choices)
    action = models.CharField(
        verbose_name=_("action"), max_length=10, choices=ConsentAction.choices
    )
    notice = models.ForeignKey(
        NoticeVersion, verbose_name=_("notice"), on_delete=models.PROTECT, related_name="+"
    )
    language = models.CharField(
        verbose_name=_("language"), max_length=2, choices=CustomerLanguage.choices
    )
    channel = models.CharField(verbose_name=_("channel"), max_length=16, choices=channel_choices)
    given_by = models.CharField(
        verbose_name=_("given by"),
        max_length=10,
        choices=ConsentGiver.choices,
        default=ConsentGiver.SUBJECT,
    )
    store = models.ForeignKey(
        Store,
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    device = models.ForeignKey(
        ReaderDevice,
        verbose_name=_("device"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    refers_to = models.ForeignKey(
        "self",
        verbose_name=_("refers to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="carried_over",
    )
    created_at = models.DateTimeField(
        verbose_name=_("created at"),
    )
    prev_hash = models.CharField(verbose_name=_("prev hash"), max_length=64, unique=True)
    record_hash = models.CharField(verbose_name=_("record hash"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        ordering = ["seq"]
        indexes = [models.Index(fields=["subject_key", "purpose", "seq"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.purpose} {self.action}"


class ConsentLogHead(models.Model):
    """The one row every append locks: the last sequence number and hash of the consent log."""

    seq = models.PositiveBigIntegerField(verbose_name=_("seq"), default=0)
    last_hash = models.CharField(verbose_name=_("last hash"), max_length=64)

    class Meta:
        verbose_name = _("consent log head")
        verbose_name_plural = _("consent log heads")

    def __str__(self) -> str:
        return f"consent log head #{self.seq}"


class TicketKind(models.TextChoices):
    """Privacy's own kinds; apps register the consent withdrawals customers may ask for."""

    ERASURE = "erasure", _("Erasure")
    ACCESS = "access", _("Access")


class TicketState(models.TextChoices):
    RECEIVED = "received", _("Received")
    AWAITING_VERIFICATION = "awaiting_verification", _("Awaiting verification")
    VERIFIED = "verified", _("Verified")
    SCHEDULED = "scheduled", _("Scheduled")
    COMPLETED = "completed", _("Completed")
    REJECTED = "rejected", _("Rejected")


OPEN_STATES = (
    TicketState.RECEIVED,
    TicketState.AWAITING_VERIFICATION,
    TicketState.VERIFIED,
    TicketState.SCHEDULED,
)


class TicketSource(models.TextChoices):
    PUBLIC_FORM = "public_form", _("Public request form")
    COUNTER = "counter", _("At the counter, confirmed by the member")
    WITHDRAWAL = "withdrawal", _("Consent withdrawn")
    RETENTION = "retention", _("Retention period ended")
    RESTORE = "restore", _("Erasure re-applied after a restore")
    SIGNED_IN = "signed_in", _("Asked online, signed in with a link sent to the address on file")


class Verification(models.TextChoices):
    """How the requester was confirmed to be the data subject (recorded on the ticket)."""

    EMAIL_LINK = "email_link", _("Link sent to the e-mail address on file")
    EMAIL_CODE = "email_code", _("Code sent to the e-mail address on file")
    CREDENTIAL = "credential", _("Presented their card at the counter")
    HEAD_OFFICE = "head_office", _("Checked by head office (second person)")
    STAFF_CHECK = "staff_check", _("Checked by staff another way")
    AUTOMATIC = "automatic", _("Not needed (retention or withdrawal)")


class PrivacyTicket(models.Model):
    """An erasure (Art. 17), access (Art. 15) or consent withdrawal (Art. 7(3)) request.

    Holds no personal data: the subject is a pseudonymous key, cleared when the subject is
    erased; the requester's address only as a keyed hash, so a repeat can be recognised.
    """

    kind = models.CharField(verbose_name=_("kind"), max_length=16, choices=ticket_kind_choices)
    state = models.CharField(verbose_name=_("state"), max_length=24, choices=TicketState.choices)
    source = models.CharField(verbose_name=_("source"), max_length=16, choices=TicketSource.choices)
    subject_key = models.CharField(  # noqa: DJ001
        verbose_name=_("subject key"), max_length=64, null=True, blank=True, db_index=True
    )
    requester_digest = models.CharField(
        verbose_name=_("requester digest"), max_length=64, blank=True, db_index=True
    )
    language = models.CharField(
        verbose_name=_("language"), max_length=2, choices=CustomerLanguage.choices
    )
    store = models.ForeignKey(
        Store,
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    received_at = models.DateTimeField(
        verbose_name=_("received at"),
    )
    due_on = models.DateField(
        verbose_name=_("due on"),
        help_text=_("One calendar month after receipt, or the extended date."),
    )
    extended_at = models.DateTimeField(verbose_name=_("extended at"), null=True, blank=True)
    extension_reason = models.TextField(verbose_name=_("extension reason"), blank=True)
    token_hash = models.CharField(
        verbose_name=_("token hash"), max_length=64, null=True, blank=True, unique=True
    )
    token_expires_at = models.DateTimeField(
        verbose_name=_("token expires at"), null=True, blank=True
    )
    token_sent_at = models.DateTimeField(verbose_name=_("token sent at"), null=True, blank=True)
    reject_reason = models.TextField(verbose_name=_("reject reason"), blank=True)
    verification = models.CharField(
        verbose_name=_("verification"), max_length=12, choices=Verification.choices, blank=True
    )
    # A counter request's one-time code, as a hash only (privacy.services.counter).
    code_hash = models.CharField(verbose_name=_("code hash"), max_length=64, null=True, blank=True)  # noqa: DJ001
    code_expires_at = models.DateTimeField(verbose_name=_("code expires at"), null=True, blank=True)
    code_attempts = models.PositiveSmallIntegerField(verbose_name=_("code attempts"), default=0)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    completed_at = models.DateTimeField(verbose_name=_("completed at"), null=True, blank=True)
    steps_done = models.JSONField(verbose_name=_("steps done"), default=list, blank=True)
    result_counts = models.JSONField(verbose_name=_("result counts"), default=dict, blank=True)
    # The erasure's scan run again after it (privacy.services.erasure_preview): all zeros.
    rescan_counts = models.JSONField(verbose_name=_("rescan counts"), default=dict, blank=True)
    recipients = models.JSONField(verbose_name=_("recipients"), default=list, blank=True)

    class Meta:
        verbose_name = _("privacy request")
        verbose_name_plural = _("privacy requests")
        ordering = ["-received_at", "-pk"]
        constraints = [
            # One open ticket per kind and person: a double submission finds the first.
            models.UniqueConstraint(
                fields=["kind", "subject_key"],
                condition=Q(state__in=OPEN_STATES) & Q(subject_key__isnull=False),
                name="privacy_ticket_one_open_per_subject",
            ),
        ]
        indexes = [models.Index(fields=["state", "due_on"])]

    def __str__(self) -> str:
        return f"{self.kind} ticket {self.pk} ({self.state})"


class TicketTransition(models.Model):
    """One step in a ticket's history: a change of state, or an extension (same state)."""

    ticket = models.ForeignKey(
        PrivacyTicket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="history"
    )
    from_state = models.CharField(
        verbose_name=_("from state"), max_length=24, choices=TicketState.choices, blank=True
    )
    to_state = models.CharField(
        verbose_name=_("to state"), max_length=24, choices=TicketState.choices
    )
    at = models.DateTimeField(
        verbose_name=_("at"),
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField(verbose_name=_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("request history step")
        verbose_name_plural = _("request history steps")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_state or '-'} -> {self.to_state}"


class RetentionRun(models.Model):
    """One run of the retention job: when it ran, the cutoff it used, how many erasures it opened
    and how far they have got.

    Append-only: the retention service writes one on every run, also one that finds nobody, so
    head office can see that the job runs. Holds counts only: no personal data, no subject key.
    The erasure tickets a run opened carry its `started_at` as their `received_at`.
    """

    started_at = models.DateTimeField(
        verbose_name=_("started at"),
    )
    finished_at = models.DateTimeField(
        verbose_name=_("finished at"),
        null=True,
        blank=True,
        help_text=_("When it had opened every erasure; empty while it runs."),
    )
    cutoff = models.DateTimeField(
        verbose_name=_("cutoff"), help_text=_("Subjects inactive since before this were erased.")
    )
    tickets_opened = models.PositiveIntegerField(
        verbose_name=_("tickets opened"),
    )
    # Kept as the erasures complete (in their transaction), so the compliance page reads one
    # row whatever the number of tickets.
    tickets_completed = models.PositiveIntegerField(verbose_name=_("tickets completed"), default=0)
    erased_counts = models.JSONField(verbose_name=_("erased counts"), default=dict, blank=True)

    class Meta:
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"retention run {self.started_at:%Y-%m-%d %H:%M} ({self.tickets_opened} opened)"


class TicketTask(models.Model):
    """Work that must reach a worker: written with what asks for it, deleted once done.

    Most rows are a ticket's work; a consent receipt's mail has no ticket (its args hold the
    subject key, an id).


    A transactional outbox. The row commits with the change that asks for the work, so a broker
    outage, a crash between commit and queue or a killed worker cannot strand a ticket: the
    sweeper (`privacy.tasks.ticket_tasks_sweep`, every minute under beat) sends again every row
    not done in time. Holds the task's name and ids, and personal data only sealed (`sealed`).
    """

    task = models.CharField(verbose_name=_("task"), max_length=64)
    ticket = models.ForeignKey(
        PrivacyTicket,
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    args = models.JSONField(
        verbose_name=_("args"),
        default=list,
        help_text=_("The ticket id and an event name, or a subject key, no more."),
    )
    # What work before any ticket needs that is personal (the address typed in a public form),
    # sealed with AES-GCM (privacy.hashing.seal), read by the task from here, never sent
    # through the broker; gone with the row once the task is done.
    sealed = models.TextField(verbose_name=_("sealed payload"), blank=True)
    created_at = models.DateTimeField(
        verbose_name=_("created at"),
    )
    sent_at = models.DateTimeField(verbose_name=_("sent at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(verbose_name=_("attempts"), default=0)

    class Meta:
        verbose_name = _("pending request task")
        verbose_name_plural = _("pending request tasks")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["sent_at"])]

    def __str__(self) -> str:
        what = f"ticket {self.ticket_id}" if self.ticket_id else "no ticket"
        return f"{self.task} for {what} ({self.attempts} sent)"


class ErasureRecord(models.Model):
    """One erasure done, kept so that a restored backup can have it re-applied (rule 9b).

    Holds no personal data: the subject only as a keyed hash of its key (HMAC under
    PRIVACY_HASH_KEY, a domain of its own), which identifies nobody without the database it
    came from, and the ticket's number. `manage.py erasure_log_export` writes these out to be
    kept apart from the backups; `manage.py erasures_reapply` erases again, in a restored
    database, every subject whose hash is in that export.
    """

    subject_hash = models.CharField(verbose_name=_("subject hash"), max_length=64, unique=True)
    erased_at = models.DateTimeField(
        verbose_name=_("erased at"),
    )
    ticket_number = models.PositiveBigIntegerField(
        verbose_name=_("ticket number"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("erasure log entry")
        verbose_name_plural = _("erasure log entries")
        ordering = ["erased_at", "pk"]

    def __str__(self) -> str:
        return f"erasure {self.erased_at:%Y-%m-%d %H:%M} (ticket {self.ticket_number})"
