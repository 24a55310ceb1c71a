"""Where apps plug into privacy, the way they register models with Django's admin.

An app that holds personal data registers, from its `AppConfig.ready()`:

- a **subject resolver**: who is behind an e-mail address or member number a customer typed,
  and, for a subject key, the e-mail on file and language to write to;
- an **eraser**: erase a subject's data, return counts per kind; it must be idempotent
  (a second call finds nothing and returns zeros), because erasure re-runs after a crash.
  It names the models it `covers` (every model that can hold a trace of a person is covered
  by an eraser or declared by `declare_traces`: a test walks them all), the kinds of its
  counts that `keeps` (rows that stay, anonymised), and, if it reaches outside the database,
  a `preview` that counts without changing anything (a database-only eraser is previewed by
  running it and rolling back: `privacy.services.erasure_preview`); and, for retention's
  batches, `erase_many`: the same for many subjects in set-based statements, counts per
  subject exactly as `erase` would have returned them. An app that writes `erase_many`
  (and `preview_many`) need not write the one-subject form: it is a batch of one;
- **trace declarations**: a model that no eraser covers says why (no personal data, staff
  accounts' own data, proof kept by design);
- an **exporter**: a subject's data as sections of plain dicts (access, Art. 15 and 20);
- **recipients**: who received a subject's data and must be told of the erasure (Art. 19);
- a **retention source**: subjects inactive since a cutoff, erased by the retention job;
- a **withdrawal hook**: what withdrawing consent for a purpose undoes in the app; it may
  return counts per kind (like an eraser), which the withdrawal's ticket keeps as its proof;
- **processing declarations**: the Art. 30 record, printed by `manage.py processing_record`;
- **measures**: what protects the people concerned (Art. 25, 32), for the impact assessment's
  draft (Art. 35) the office generates from what the code declares;
- **consent purposes**: what people consent to, with the label staff and customers read and
  its processing declaration; and the **channels** through which consent is given, if the
  app has its own (privacy has "web" and "staff_portal");
- **withdrawal kinds**: a ticket kind that withdraws consent for one purpose on request
  (Art. 7(3)), with the public page that takes it;
- **withdrawal routes**: where a given subject withdraws consent for a purpose online (their
  own page, an unsubscribe link), in words for their receipt; privacy's public forms otherwise;
- a **receipt source**: for a subject key, the facts of their consent receipt (each purpose's
  legal basis and consent record, what was kept, read and not kept, never read), from which
  `privacy.receipts` builds the receipt the customer gets after consenting.

Privacy's models keep purposes, channels and ticket kinds as plain strings whose choices are
read from here (`purpose_choices` and siblings), so an app's purpose needs no privacy change.

Subject keys are "<prefix>:<value>" ("member:42"); the prefix picks the resolver.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class Subject:
    """A data subject as privacy sees it: a key, where to write, and what they are known by."""

    key: str
    email: str | None
    language: str
    # Normalised identifiers (see privacy.hashing.identifier_normalise), the e-mail first.
    identifiers: tuple[str, ...] = ()


@dataclass(frozen=True)
class SubjectResolver:
    prefix: str
    find: Callable[[str], Subject | None]
    get: Callable[[str], Subject | None]
    # Many keys in one query: {key: Subject} for those that exist (optional).
    get_many: Callable[[list[str]], dict[str, Subject]] | None = None


@dataclass(frozen=True)
class _OneOfMany:
    """One subject's part of a batch function: `erase` (or `preview`) given by `erase_many`."""

    many: Callable[[list[str]], dict[str, dict[str, int]]]

    def __call__(self, subject_key: str) -> dict[str, int]:
        return self.many([subject_key])[subject_key]


@dataclass(frozen=True)
class Eraser:
    name: str
    erase: Callable[[str], dict[str, int]]
    order: int = 100
    covers: tuple[str, ...] = ()  # "app_label.Model" whose traces of a person it erases
    keeps: tuple[str, ...] = ()  # kinds of its counts that are rows kept, anonymised
    # Counts what `erase` would do without doing it; only for erasers that reach outside the
    # database (a database-only eraser is run and rolled back).
    preview: Callable[[str], dict[str, int]] | None = None
    labels: tuple[tuple[str, str], ...] = ()  # (kind, what head office reads), translatable
    erase_many: Callable[[list[str]], dict[str, dict[str, int]]] | None = None
    # `preview` for a batch (the re-scan after a batch erasure), counts per subject.
    preview_many: Callable[[list[str]], dict[str, dict[str, int]]] | None = None

    def erase_batch(self, subject_keys: list[str]) -> dict[str, dict[str, int]]:
        """Erase these subjects together; return each one's counts (as `erase` gives them)."""
        if self.erase_many is None:
            return {key: self.erase(key) for key in subject_keys}
        erased = self.erase_many(list(subject_keys))
        missing = set(subject_keys) - set(erased)
        if missing:
            raise ImproperlyConfigured(
                f"Privacy registry: eraser {self.name!r} left {len(missing)} subject(s) uncounted."
            )
        return {key: erased[key] for key in subject_keys}


class Traces:
    """What a model no eraser covers holds of people (`PrivacyRegistry.declare_traces`)."""

    NONE = "none"  # no personal data: configuration, counts, the chain's own records
    STAFF = "staff"  # staff accounts' own data (logins, sessions, roles), not members'
    PROOF = "proof"  # kept by design without personal data (a keyed hash, counts, dates)


@dataclass(frozen=True)
class TraceDeclaration:
    model: str  # "app_label.Model"
    traces: str  # a Traces value
    reason: str


@dataclass(frozen=True)
class ProcessingDeclaration:
    """One processing activity for the Art. 30 record. Retention may be computed from settings."""

    code: str
    title: str
    legal_basis: str
    data_categories: tuple[str, ...]
    # Or computed from settings: a recipient the chain has set up (a wallet provider).
    recipients: tuple[str, ...] | Callable[[], tuple[str, ...]]
    retention: str | Callable[[], str]
    app: str
    stored_in: tuple[str, ...] = ()  # "app_label.Model": their fields are listed from the code

    def retention_text(self) -> str:
        return self.retention() if callable(self.retention) else self.retention

    def recipients_list(self) -> tuple[str, ...]:
        return tuple(self.recipients() if callable(self.recipients) else self.recipients)


@dataclass(frozen=True)
class Measure:
    """A technical or organisational measure (Art. 32), as the impact assessment names it."""

    code: str
    title: str
    text: str
    app: str


@dataclass(frozen=True)
class ConsentPurpose:
    """A purpose people consent to, registered by the app that processes data for it.

    Withdrawing a purpose that `erases_on_withdrawal` ends the relationship: the subject's
    data are then erased (Art. 17(1)(b)); withdrawing "all" always withdraws it.
    """

    code: str
    label: str
    declaration: ProcessingDeclaration
    erases_on_withdrawal: bool = False


@dataclass(frozen=True)
class WithdrawalKind:
    """A ticket kind that withdraws consent for one purpose, asked on privacy's public pages."""

    code: str
    purpose: str
    label: str
    path: str  # of the request page under privacy's URLs, e.g. "eid/"
    url_name: str  # that page's name in the "privacy" namespace


LEGAL_BASIS_CONSENT = "consent"
LEGAL_BASIS_CONTRACT = "contract"


@dataclass(frozen=True)
class ReceiptPurpose:
    """One purpose on a consent receipt, stated by the app that processes the data.

    The texts may be lazy translations: the receipt renders them in the customer's language.
    """

    purpose: str  # a registered purpose
    legal_basis: str  # LEGAL_BASIS_CONSENT or LEGAL_BASIS_CONTRACT
    record: Any = None  # the ConsentRecord of the consent given, if any
    kept: tuple[Any, ...] = ()  # what is taken and kept
    read_not_kept: tuple[Any, ...] = ()  # read, or passed through, and not kept
    not_collected: tuple[Any, ...] = ()  # never read nor asked
    primary: bool = True


@dataclass(frozen=True)
class ReceiptFacts:
    """What an app knows of a subject's consent, for their receipt."""

    principal_id: str  # what the customer knows themself by (e.g. the member number)
    language: str  # the customer's language
    channel: str  # a registered channel
    store_name: str  # where the consent was given
    at: datetime
    purposes: tuple[ReceiptPurpose, ...]
    # What the receipt's mail offers besides: (label, absolute URL), e.g. the card in the
    # phone. Not on the slip nor in the JSON form: the links are the customer's own.
    links: tuple[tuple[Any, str], ...] = ()


@dataclass
class PrivacyRegistry:
    resolvers: dict[str, SubjectResolver] = field(default_factory=dict)
    erasers: dict[str, Eraser] = field(default_factory=dict)
    exporters: dict[str, Callable[[str], dict[str, list[dict[str, Any]]]]] = field(
        default_factory=dict
    )
    recipient_sources: dict[str, Callable[[str], list[str]]] = field(default_factory=dict)
    retention_sources: dict[str, Callable[[datetime], Iterable[str]]] = field(default_factory=dict)
    subject_sources: dict[str, Callable[[], Iterable[str]]] = field(default_factory=dict)
    withdrawal_hooks: dict[str, list[Callable[[str], Any]]] = field(default_factory=dict)
    declarations: dict[str, ProcessingDeclaration] = field(default_factory=dict)
    purposes: dict[str, ConsentPurpose] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)
    ticket_kinds: dict[str, str] = field(default_factory=dict)
    withdrawal_kinds: dict[str, WithdrawalKind] = field(default_factory=dict)
    traces: dict[str, TraceDeclaration] = field(default_factory=dict)
    receipt_sources: dict[str, Callable[[str], ReceiptFacts | None]] = field(default_factory=dict)
    withdrawal_routes: dict[str, Callable[[str, str], tuple[str, str] | None]] = field(
        default_factory=dict
    )
    measures: dict[str, Measure] = field(default_factory=dict)

    @staticmethod
    def _add(table: dict, name: str, value: Any) -> None:
        if name in table and table[name] != value:
            raise ImproperlyConfigured(f"Privacy registry: {name!r} is registered twice.")
        table[name] = value

    def register_resolver(
        self,
        prefix: str,
        *,
        find: Callable[[str], Subject | None],
        get: Callable[[str], Subject | None],
        get_many: Callable[[list[str]], dict[str, Subject]] | None = None,
    ) -> None:
        """Resolve identifiers typed by customers, and subject keys "<prefix>:...", to subjects."""
        self._add(self.resolvers, prefix, SubjectResolver(prefix, find, get, get_many))

    def register_eraser(
        self,
        name: str,
        erase: Callable[[str], dict[str, int]] | None = None,
        *,
        order: int = 100,
        covers: Iterable[str] = (),
        keeps: Iterable[str] = (),
        preview: Callable[[str], dict[str, int]] | None = None,
        labels: dict[str, str] | None = None,
        erase_many: Callable[[list[str]], dict[str, dict[str, int]]] | None = None,
        preview_many: Callable[[list[str]], dict[str, dict[str, int]]] | None = None,
    ) -> None:
        """Erase a subject's data (idempotent); lower `order` runs first.

        `erase_many` erases a batch of subjects in a few statements and returns, for every
        key given, what `erase` would have returned for it; without it a batch calls `erase`
        once per subject, and without `erase` one subject is a batch of one (`preview` and
        `preview_many` likewise).
        """
        if erase is None:
            if erase_many is None:
                raise ImproperlyConfigured(f"Privacy registry: eraser {name!r} erases nothing.")
            erase = _OneOfMany(erase_many)
        if preview is None and preview_many is not None:
            preview = _OneOfMany(preview_many)
        self._add(
            self.erasers,
            name,
            Eraser(
                name,
                erase,
                order,
                tuple(covers),
                tuple(keeps),
                preview,
                tuple((labels or {}).items()),
                erase_many,
                preview_many,
            ),
        )

    def declare_measure(self, code: str, *, title: str, text: str, app: str) -> None:
        """Add a measure that protects the people concerned (translatable title and text)."""
        self._add(self.measures, code, Measure(code, title, text, app))

    def declare_traces(self, *models: str, traces: str, reason: str) -> None:
        """Declare what models no eraser covers hold of people, and why they need no eraser."""
        if traces not in (Traces.NONE, Traces.STAFF, Traces.PROOF):
            raise ImproperlyConfigured(f"Privacy registry: unknown traces {traces!r}.")
        for model in models:
            self._add(self.traces, model, TraceDeclaration(model, traces, reason))

    def register_exporter(
        self, name: str, export: Callable[[str], dict[str, list[dict[str, Any]]]]
    ) -> None:
        """Return a subject's data as {section: [row, ...]}, plain JSON-ready values."""
        self._add(self.exporters, name, export)

    def register_recipients(self, name: str, recipients: Callable[[str], list[str]]) -> None:
        """Name who received a subject's data (no personal data in the names)."""
        self._add(self.recipient_sources, name, recipients)

    def register_retention(self, name: str, inactive: Callable[[datetime], Iterable[str]]) -> None:
        """Return the keys of subjects with no activity since the cutoff."""
        self._add(self.retention_sources, name, inactive)

    def register_subjects(self, name: str, every: Callable[[], Iterable[str]]) -> None:
        """Return the keys of every subject the app holds (to re-apply erasures after a restore)."""
        self._add(self.subject_sources, name, every)

    def register_withdrawal_hook(self, purpose: str, hook: Callable[[str], Any]) -> None:
        """Undo what consent for `purpose` allowed, for a subject key, when it is withdrawn.

        The hook may return {kind: count} of what it undid; anything else is ignored.
        """
        hooks = self.withdrawal_hooks.setdefault(purpose, [])
        if hook not in hooks:
            hooks.append(hook)

    def register_receipt_source(
        self, prefix: str, facts: Callable[[str], ReceiptFacts | None]
    ) -> None:
        """Return the facts of a consent receipt for subject keys "<prefix>:...", or None."""
        self._add(self.receipt_sources, prefix, facts)

    def register_withdrawal_route(
        self, purpose: str, route: Callable[[str, str], tuple[str, str] | None]
    ) -> None:
        """Say where a subject withdraws `purpose` online: `route(subject_key, language)`
        returns (url, the receipt's sentence with it), or None when it cannot act for them."""
        self._add(self.withdrawal_routes, purpose, route)

    def declare(self, declaration: ProcessingDeclaration) -> None:
        """Add a processing activity to the record of processing."""
        self._add(self.declarations, declaration.code, declaration)

    def register_purpose(
        self,
        code: str,
        *,
        label: str,
        declaration: ProcessingDeclaration,
        erases_on_withdrawal: bool = False,
    ) -> None:
        """Add a consent purpose and its processing activity (declared under the same code)."""
        if declaration.code != code:
            raise ImproperlyConfigured(f"Privacy registry: purpose {code!r} declared as another.")
        self._add(
            self.purposes, code, ConsentPurpose(code, label, declaration, erases_on_withdrawal)
        )
        self.declare(declaration)

    def register_channel(self, code: str, *, label: str) -> None:
        """Add a channel consent can be given or withdrawn through."""
        self._add(self.channels, code, label)

    def register_ticket_kind(self, code: str, *, label: str) -> None:
        """Add a kind of privacy ticket (privacy's own: erasure and access)."""
        self._add(self.ticket_kinds, code, label)

    def register_withdrawal_kind(
        self, code: str, *, purpose: str, label: str, path: str, url_name: str
    ) -> None:
        """Add a ticket kind that withdraws consent for `purpose` on a request made online."""
        self._add(self.withdrawal_kinds, code, WithdrawalKind(code, purpose, label, path, url_name))
        self.register_ticket_kind(code, label=label)

    # Reads
    def purpose_label(self, code: str) -> str:
        """Return the label of a registered purpose, or the code itself for an unknown one."""
        purpose = self.purposes.get(code)
        return purpose.label if purpose else code

    def subject_find(self, identifier: str) -> Subject | None:
        """Return the subject known by this normalised identifier, in any app, or None."""
        for resolver in self.resolvers.values():
            subject = resolver.find(identifier)
            if subject is not None:
                return subject
        return None

    def subject_get(self, subject_key: str) -> Subject | None:
        """Return the subject behind a key, or None (unknown prefix, or already erased)."""
        prefix, _, _ = (subject_key or "").partition(":")
        resolver = self.resolvers.get(prefix)
        return resolver.get(subject_key) if resolver else None

    def subjects_get(self, subject_keys: Iterable[str]) -> dict[str, Subject]:
        """Return {key: subject} for the keys whose subject exists (one query per resolver)."""
        by_prefix: dict[str, list[str]] = {}
        for key in subject_keys:
            by_prefix.setdefault((key or "").partition(":")[0], []).append(key)
        found: dict[str, Subject] = {}
        for prefix, keys in by_prefix.items():
            resolver = self.resolvers.get(prefix)
            if resolver is None:
                continue
            if resolver.get_many is not None:
                found.update(resolver.get_many(keys))
            else:
                found.update({k: s for k in keys if (s := resolver.get(k)) is not None})
        return found

    def recipients_of(self, subject_key: str) -> list[str]:
        """Return who received the subject's data, from every app, each named once."""
        recipients: list[str] = []
        for source in self.recipient_sources.values():
            recipients.extend(r for r in source(subject_key) if r not in recipients)
        return recipients

    def erasers_in_order(self) -> list[Eraser]:
        return sorted(self.erasers.values(), key=lambda e: (e.order, e.name))

    def count_label(self, eraser_name: str, kind: str) -> str:
        """Return what head office reads for an eraser's count, or the kind itself."""
        eraser = self.erasers.get(eraser_name)
        return dict(eraser.labels).get(kind, kind) if eraser else kind

    def covered_models(self) -> dict[str, list[str]]:
        """Return, per "app_label.Model", the erasers that cover it."""
        covered: dict[str, list[str]] = {}
        for eraser in self.erasers_in_order():
            for model in eraser.covers:
                covered.setdefault(model, []).append(eraser.name)
        return covered


registry = PrivacyRegistry()


# Choices of privacy's model fields, read when used so apps may register after the models load.
# Module-level functions: migrations refer to them by name.
def purpose_choices() -> list[tuple[str, str]]:
    return [(p.code, p.label) for p in registry.purposes.values()]


def channel_choices() -> list[tuple[str, str]]:
    return list(registry.channels.items())


def ticket_kind_choices() -> list[tuple[str, str]]:
    return list(registry.ticket_kinds.items())
