"""The equal-benefits parity check's last result, in the office's words (rule 2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from loyalty.models import JoinChannel
from loyalty.selectors import parity_run_last

ASPECT_WORDS = {
    "balance": gettext_lazy("points balance"),
    "owed": gettext_lazy("points owed after a return"),
    "tier": gettext_lazy("tier"),
    "coupons": gettext_lazy("coupons"),
    "campaign_uses": gettext_lazy("campaign uses"),
    "ledger": gettext_lazy("points history"),
    "pending": gettext_lazy("pending points"),
    "steps": gettext_lazy("steps"),
}
STEP_WORDS = {
    "purchase": gettext_lazy("purchase %(n)s at %(store)s"),
    "return": gettext_lazy("the return of purchase %(n)s"),
    "tier": gettext_lazy("the tier recompute"),
    "coupon": gettext_lazy("coupon redemption %(n)s"),
    "redeem": gettext_lazy("the redemption of %(n)s points"),
}
JOINED_BY = {
    JoinChannel.EID: gettext_lazy("the eID card"),
    JoinChannel.EID_ANONYMOUS: gettext_lazy("the eID card, anonymously"),
}


@dataclass(frozen=True)
class ParityStatus:
    ran_at: datetime
    passed: bool
    cases: int
    seed: int
    difference: str


def parity_difference(detail: dict) -> str:
    """Return the first difference a run found, in the active language."""
    aspect = detail.get("aspect", "")
    if aspect == "no_store":
        return _("The chain has no open store: nothing was checked.")
    if aspect == "error":
        return _("The check could not run (%(error)s).") % {"error": detail.get("error", "")}
    step = detail.get("step")
    what = STEP_WORDS[step["kind"]] % step if step else ASPECT_WORDS.get(aspect, aspect)
    if detail.get("count"):
        what = _("number of %(what)s") % {"what": what}
    return _(
        "Case %(case)s, %(what)s: %(form)s for the member who joined by form, "
        "%(other)s for the member who joined with %(joined)s."
    ) % {
        "case": detail.get("case"),
        "what": what,
        "form": detail.get("form"),
        "other": detail.get("other"),
        "joined": JOINED_BY.get(detail.get("channel"), detail.get("channel")),
    }


def parity_status() -> ParityStatus | None:
    """Return the parity check's last result, or None if it never ran."""
    run = parity_run_last()
    if run is None:
        return None
    return ParityStatus(
        ran_at=run.ran_at,
        passed=run.passed,
        cases=run.cases,
        seed=run.seed,
        difference="" if run.passed else parity_difference(run.detail),
    )
