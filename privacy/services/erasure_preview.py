"""Destructive work is previewed (scan, preview, confirm, execute, re-scan).

`erasure_preview` is the scan: every registered eraser runs, in order, for the subject, inside
a transaction that is then rolled back, so each one counts what it would remove or keep after
the ones before it, exactly as the erasure will, and nothing changes. An eraser that reaches
outside the database (privacy's cache) gives its own `preview` instead. Work queued "on
commit" inside the rolled-back transaction is dropped with it.

The same scan runs again inside the erasure's transaction once the erasers are done: the
re-scan, kept in the ticket's proof, finds nothing left to remove.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from privacy.registry import Eraser, registry


class _DryRun(Exception):
    """Raised to roll the preview's transaction back."""


def _split(eraser: Eraser, counts: dict[str, int]) -> dict[str, Any]:
    return {
        "eraser": eraser.name,
        "app": eraser.name.partition(".")[0],
        "removes": {k: n for k, n in counts.items() if k not in eraser.keeps},
        "keeps": {k: n for k, n in counts.items() if k in eraser.keeps},
    }


def erasure_preview(*, subject_key: str) -> dict[str, Any]:
    """Return what erasing the subject would remove and keep, and who must be told.

    {"erasers": [{"eraser", "app", "removes": {kind: n}, "keeps": {kind: n}}, ...],
     "removed": total, "kept": total, "recipients": [...]}; no personal data in it.
    """
    steps = []
    try:
        with transaction.atomic():
            for eraser in registry.erasers_in_order():
                run = eraser.preview or eraser.erase
                steps.append(_split(eraser, dict(run(subject_key))))
            raise _DryRun
    except _DryRun:
        pass
    return {
        "erasers": steps,
        "removed": sum(n for step in steps for n in step["removes"].values()),
        "kept": sum(n for step in steps for n in step["keeps"].values()),
        "recipients": registry.recipients_of(subject_key),
    }


def erasure_rescan_many(*, subject_keys: list[str]) -> dict[str, dict[str, int]]:
    """Run the preview's scan again after erasing these subjects (each eraser given the batch,
    rolled back); return, per subject, {"eraser.kind": n} of what it found.

    Every count is 0 when the erasure left nothing behind (keys kept anonymised included:
    the rows they name no longer point at the subject).
    """
    found: dict[str, dict[str, int]] = {key: {} for key in subject_keys}
    try:
        with transaction.atomic():
            for eraser in registry.erasers_in_order():
                if eraser.preview_many is not None:
                    counts = eraser.preview_many(subject_keys)
                elif eraser.preview is not None:
                    counts = {key: eraser.preview(key) for key in subject_keys}
                else:
                    counts = eraser.erase_batch(subject_keys)
                for key, kinds in counts.items():
                    found[key].update({f"{eraser.name}.{k}": n for k, n in kinds.items()})
            raise _DryRun
    except _DryRun:
        pass
    return found
