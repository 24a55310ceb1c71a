"""The compliance self-check: forbidden fields, the chain, overdue tickets, retention."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.db import models
from django.utils import timezone

from dashboard.selectors.compliance_checks import Check, compliance_checks
from dashboard.selectors.parity import ParityStatus, parity_status
from dashboard.selectors.privacy_queue import ChainStatus, consent_chain_status
from privacy.models import (
    PrivacyTicket,
    RetentionRun,
)
from privacy.registry import Traces, registry
from privacy.selectors import tickets_overdue

FORBIDDEN_FIELD = {
    "national number": re.compile(
        # NISS and INSZ as words: "gebeurtenissen" (events) holds the letters "niss".
        r"national|rijksregister|registre national|register\s*(number|nr|no)\b|\bnrn\b"
        r"|\bniss\b|\binsz\b|\bssin\b|\bnn\b",
        re.I,
    ),
    "birth date": re.compile(r"birth|\bdob\b|born|geboorte|naissance|\bage\b", re.I),
    "gender": re.compile(r"gender|\bsex\b|geslacht|\bsexe\b", re.I),
    "address": re.compile(r"address|street|straat|\brue\b|postcode|postal|\bzip\b|adres", re.I),
    "photo": re.compile(r"photo|picture|portrait|\bimage\b|foto|selfie", re.I),
}


# An e-mail or network address is not where someone lives: in names, and by field type.
NOT_POSTAL = re.compile(r"\b(e ?mail|ip|mac|network|web) address(es)?\b", re.I)
NOT_POSTAL_TYPES = (models.EmailField, models.GenericIPAddressField, models.URLField)


@dataclass(frozen=True)
class FieldFinding:
    model: str
    field: str
    category: str


def _words(name: str) -> str:
    return " ".join(name.replace("_", " ").split())


def schema_forbidden_fields(
    fields: Iterable[models.Field] | None = None,
) -> list[FieldFinding]:
    """Return the fields that look as if they may hold a national number, birth date, gender,
    address or photo. `fields` defaults to every concrete field of every installed model.

    An e-mail address is allowed (the form channel asks for it), and an e-mail, IP or web
    address is not a postal one (but a `photo_url` is still a photo); an image or file field
    is always reported as a possible photo, except in a model that privacy's registry declares
    as holding no person's data (`declare_traces`, `Traces.NONE`): a picture stored there (a
    file or bytes) is the chain's own, its logo; its other fields are checked as any.
    """
    if fields is None:
        fields = [f for model in apps.get_models() for f in model._meta.concrete_fields]
    no_person = {label for label, d in registry.traces.items() if d.traces == Traces.NONE}
    findings = []
    for f in fields:
        label = f"{f.model._meta.label}" if getattr(f, "model", None) else "?"
        stored_picture = isinstance(f, models.FileField | models.BinaryField)
        ruled_out = {"photo"} if stored_picture and label in no_person else set()
        if isinstance(f, models.FileField) and "photo" not in ruled_out:
            findings.append(FieldFinding(label, f.name, "photo"))
            continue
        if isinstance(f, NOT_POSTAL_TYPES):
            ruled_out.add("address")
        text = f"{_words(f.name)} {_words(str(f.verbose_name))} {_words(f.db_column or '')}"
        text = NOT_POSTAL.sub(" ", text)
        for category, pattern in FORBIDDEN_FIELD.items():
            if category not in ruled_out and pattern.search(text):
                findings.append(FieldFinding(label, f.name, category))
                break
    return findings


# The retention job runs every night (CELERY_BEAT_SCHEDULE); two missed nights are a finding.
RETENTION_STALE_AFTER = timedelta(hours=50)


@dataclass
class RetentionSummary:
    """The retention job's last run and what the erasures it opened have erased so far."""

    started_at: Any
    finished_at: Any
    cutoff: Any
    tickets: int
    completed: int
    erased: dict[str, int]

    @property
    def running(self) -> bool:
        """Whether it is still opening erasures, or some of them wait to be done."""
        return self.finished_at is None or self.completed < self.tickets

    @property
    def percent_done(self) -> int:
        return 100 if not self.tickets else self.completed * 100 // self.tickets

    @property
    def stale(self) -> bool:
        """Whether the daily job missed its last runs (is the beat scheduler running?)."""
        return timezone.now() - self.started_at > RETENTION_STALE_AFTER


def retention_last_run() -> RetentionSummary | None:
    """Return the retention job's last run, or None if it never ran.

    The run counts the erasures it opened and, as each batch of them completes, what they
    erased: one row to read, whatever the number of tickets.
    """
    run = RetentionRun.objects.order_by("-started_at", "-pk").first()
    if run is None:
        return None
    return RetentionSummary(
        started_at=run.started_at,
        finished_at=run.finished_at,
        cutoff=run.cutoff,
        tickets=run.tickets_opened,
        completed=run.tickets_completed,
        erased=dict(sorted((run.erased_counts or {}).items())),
    )


@dataclass
class ComplianceReport:
    forbidden_fields: list[FieldFinding]
    chain: ChainStatus | None
    overdue: list[PrivacyTicket]
    retention: RetentionSummary | None
    checks: list[Check] = dataclass_field(default_factory=list)
    # The equal-benefits parity check's last run (None: never ran, which is no failure yet).
    parity: ParityStatus | None = None

    @property
    def retention_ok(self) -> bool:
        """The job ran, and lately: members inactive too long are being erased."""
        return self.retention is not None and not self.retention.stale

    @property
    def ok(self) -> bool:
        return not self.failures()

    def failures(self) -> list[str]:
        """Return the codes of the checks that fail (the page's and the command's)."""
        built_in = {
            "schema": not self.forbidden_fields,
            "chain": self.chain is not None and self.chain.ok,
            "overdue": not self.overdue,
            "retention": self.retention_ok,
            "parity": self.parity is None or self.parity.passed,
        }
        failed = [code for code, ok in built_in.items() if not ok]
        return failed + [check.code for check in self.checks if not check.ok]


def compliance_report(*, fields: Iterable[models.Field] | None = None) -> ComplianceReport:
    """Return the live compliance self-check."""
    return ComplianceReport(
        forbidden_fields=schema_forbidden_fields(fields),
        chain=consent_chain_status(),
        overdue=list(tickets_overdue()[:50]),
        retention=retention_last_run(),
        checks=compliance_checks(),
        parity=parity_status(),
    )
