"""The counter screen's pages. Thin: parse the form, call one service or selector, render.

Every page under /counter/<store>/ reaches its store through `stores.access` (`common`'s
`counter_view`), so a cashier acts only for a store they work in. Search terms travel in POST
bodies, never in URLs.

By subject: `store_choice` (after sign-in), `member_search`, `join_form`, `eid_scan` (consent,
arming a reader, waiting for the card), `member_page` (the member's page and its actions).
"""

from portal.views.eid_scan import eid_consent, eid_link, scan, scan_cancel, scan_state
from portal.views.join_form import join
from portal.views.member_page import (
    member,
    member_card,
    member_earn,
    member_eid_withdraw,
    member_email_add,
    member_erasure,
    member_export,
    member_redeem,
    member_request_confirm,
)
from portal.views.member_search import counter, search
from portal.views.receipt import member_receipt, member_receipt_json
from portal.views.store_choice import home, store_change, store_pick

__all__ = [
    "counter",
    "eid_consent",
    "eid_link",
    "home",
    "join",
    "member",
    "member_card",
    "member_earn",
    "member_eid_withdraw",
    "member_email_add",
    "member_erasure",
    "member_export",
    "member_receipt",
    "member_receipt_json",
    "member_redeem",
    "member_request_confirm",
    "scan",
    "scan_cancel",
    "scan_state",
    "search",
    "store_change",
    "store_pick",
]
