"""Every model of every installed app is accounted for at erasure time (rule 7).

A model is covered by a registered eraser (`register_eraser(..., covers=...)`), or declared
with what it holds of people (`declare_traces`). A model nobody thought about, a declaration
left behind by a model that is gone, or a model declared as holding nothing that has a field
for personal data or points at a covered model or at a staff account: each is a gap.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth import get_user_model

from privacy.registry import Traces, registry

# Field names that hold a person's data wherever they appear (members' or staff's).
PERSONAL_FIELD_NAMES = frozenset(
    {
        "email",
        "phone",
        "given_name",
        "surname",
        "first_name",
        "last_name",
        "username",
        "ip_address",
        "user_agent",
        "subject_key",
        "session_data",
        "object_repr",
        "get_data",
        "post_data",
    }
)


def trace_coverage_gaps() -> list[str]:
    """Return what is not accounted for, one line per gap (no personal data in them)."""
    covered = registry.covered_models()
    declared = registry.traces
    user_model = get_user_model()._meta.label
    labels = set()
    gaps = []
    for model in apps.get_models(include_auto_created=True):
        label = model._meta.label
        labels.add(label)
        declaration = declared.get(label)
        if label in covered and declaration:
            gaps.append(f"{label}: covered by {', '.join(covered[label])} and also declared")
        if label not in covered and declaration is None:
            gaps.append(f"{label}: no eraser covers it and it is not declared (declare_traces)")
        if declaration is None:
            continue
        for field in model._meta.concrete_fields:
            related = field.related_model._meta.label if field.related_model else None
            if related in covered:
                gaps.append(
                    f"{label}.{field.name}: points at {related}, which holds a person's data; "
                    "an eraser must cover it"
                )
            if declaration.traces != Traces.NONE:
                continue
            if field.name in PERSONAL_FIELD_NAMES:
                gaps.append(f"{label}.{field.name}: personal data in a model declared as none")
            if related == user_model:
                gaps.append(f"{label}.{field.name}: a staff account in a model declared as none")
    for label in sorted((set(covered) | set(declared)) - labels):
        gaps.append(f"{label}: covered or declared, but not a model of an installed app")
    return gaps
