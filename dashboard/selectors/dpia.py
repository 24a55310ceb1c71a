"""A draft of the data-protection impact assessment (Art. 35), from what the code declares.

The processing record (purposes, data categories, where they are stored, recipients,
retention), the measures the apps declare, and which eraser covers each model: written out as
Markdown in the DPO's language, a document they edit and complete (the risks' likelihood and
severity, their opinion, the sign-off are left for them); the same text as an OpenDocument
(.odt) for those who edit in a word processor.
"""

from __future__ import annotations

from django.apps import apps
from django.template.loader import render_to_string
from django.utils import timezone, translation

from dashboard.odt import markdown_to_odt
from privacy.registry import Traces, registry
from privacy.selectors import processing_record

DPIA_LANGUAGES = ("nl", "fr", "en")


def _coverage() -> list[dict[str, str]]:
    covered = registry.covered_models()
    rows = []
    for model in sorted(apps.get_models(include_auto_created=True), key=lambda m: m._meta.label):
        label = model._meta.label
        if label in covered:
            rows.append({"model": label, "how": "eraser", "detail": ", ".join(covered[label])})
        elif label in registry.traces:
            declared = registry.traces[label]
            rows.append({"model": label, "how": declared.traces, "detail": declared.reason})
        else:
            rows.append({"model": label, "how": "", "detail": ""})
    return rows


def dpia_markdown(*, language: str) -> str:
    """Return the draft assessment as Markdown, in `language` (nl, fr or en)."""
    if language not in DPIA_LANGUAGES:
        raise ValueError(language)
    with translation.override(language):
        record = processing_record()
        measures = [
            {"code": m.code, "title": str(m.title), "text": str(m.text), "app": m.app}
            for m in registry.measures.values()
        ]
        return render_to_string(
            "dashboard/dpia.md",
            {
                "record": record,
                "measures": measures,
                "coverage": _coverage(),
                "traces": Traces,
                "today": timezone.localdate(),
                "language": language,
            },
        )


def dpia_odt(*, language: str) -> bytes:
    """Return the draft assessment as an OpenDocument text in `language` (nl, fr or en)."""
    text = dpia_markdown(language=language)
    title = text.partition("\n")[0].lstrip("# ").strip()
    return markdown_to_odt(text, language=language, title=title)
