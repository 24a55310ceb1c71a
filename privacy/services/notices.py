"""Publishing privacy notices: a new text is a new, immutable version."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from core.errors import InvalidInput, PurposeInvalid
from privacy.chain import notice_content_hash
from privacy.models import NoticeVersion
from privacy.registry import registry
from stores.models import CustomerLanguage

NOTICE_MAX = 20_000


def notice_publish(*, purpose: str, language: str, text: str) -> NoticeVersion:
    """Publish a notice text for a purpose and language; return its version.

    Publishing the text already current for that purpose and language returns that version.
    """
    if purpose not in registry.purposes:
        raise PurposeInvalid()
    if language not in CustomerLanguage.values:
        raise InvalidInput(details={"language": ["Choose nl, fr, de or en."]})
    text = (text or "").strip()
    if not text or len(text) > NOTICE_MAX:
        raise InvalidInput(details={"text": ["Give the notice text (up to 20,000 characters)."]})
    content_hash = notice_content_hash(purpose=purpose, language=language, text=text)
    existing = NoticeVersion.objects.filter(content_hash=content_hash).first()
    if existing is not None:
        return existing
    for _ in range(3):
        try:
            with transaction.atomic():
                latest = NoticeVersion.objects.filter(purpose=purpose, language=language).aggregate(
                    v=Max("version")
                )["v"]
                return NoticeVersion.objects.create(
                    purpose=purpose,
                    language=language,
                    version=(latest or 0) + 1,
                    text=text,
                    content_hash=content_hash,
                    published_at=timezone.now(),
                )
        except IntegrityError:
            existing = NoticeVersion.objects.filter(content_hash=content_hash).first()
            if existing is not None:
                return existing
    raise IntegrityError("Could not allocate a notice version.")
