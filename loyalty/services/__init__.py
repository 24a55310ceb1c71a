"""Every write of the loyalty app: joining, earning, redeeming, adjusting, expiring points.

A change to a balance is an action: lock the member row, write an append-only ledger row,
update the cached balance, all in one transaction. Rules about how many points a purchase
earns live in `loyalty.rules` and never see how the member joined.

By subject: `members` (joining, unlinking an eID card), `ledger` (what every balance change
shares), `earn`, `points` (redeem, adjust, reverse, expire), `rewards` (the catalogue).
"""

from loyalty.services.coupons import coupon_redeem, coupons_issue_bulk
from loyalty.services.earn import points_earn, points_quote
from loyalty.services.ledger import MAX_POINTS_PER_ENTRY
from loyalty.services.members import (
    member_eid_unlink,
    member_email_add,
    member_enroll_anonymous_by_eid,
    member_enroll_by_eid,
    member_enroll_by_form,
)
from loyalty.services.points import (
    points_adjust,
    points_expire,
    points_expire_due,
    points_expiry_rewind,
    points_redeem,
    points_reverse,
)
from loyalty.services.reads import (
    member_lookup_recorded,
    member_read_by_reference,
    member_reads_record,
    member_references_issue,
)
from loyalty.services.returns import points_pending, points_return
from loyalty.services.rewards import reward_create, reward_set_active

__all__ = [
    "MAX_POINTS_PER_ENTRY",
    "coupon_redeem",
    "coupons_issue_bulk",
    "member_eid_unlink",
    "member_email_add",
    "member_enroll_anonymous_by_eid",
    "member_enroll_by_eid",
    "member_enroll_by_form",
    "member_lookup_recorded",
    "member_read_by_reference",
    "member_reads_record",
    "member_references_issue",
    "points_adjust",
    "points_earn",
    "points_expire",
    "points_expire_due",
    "points_expiry_rewind",
    "points_pending",
    "points_quote",
    "points_redeem",
    "points_return",
    "points_reverse",
    "reward_create",
    "reward_set_active",
]
