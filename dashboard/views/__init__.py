"""The head-office dashboard's pages. Each one parses input, calls a selector or a service,
and renders; who may see what is decided by `selectors.office_access`.
"""

from dashboard.views.compliance import compliance, processing_record_download
from dashboard.views.configuration import (
    campaign_create,
    campaign_end,
    device_register,
    device_revoke,
    devices_csv,
    notice,
    notices,
    notices_csv,
    reward_active,
    rewards,
    rewards_csv,
    staff,
    staff_csv,
    staff_tokens_revoke,
    store,
    store_rule,
    stores,
    stores_csv,
)
from dashboard.views.figures import figures, figures_csv
from dashboard.views.member_reads import member_reads
from dashboard.views.privacy_queue import (
    consent,
    consent_csv,
    consent_verify,
    ticket,
    ticket_action,
    tickets,
    tickets_csv,
)

__all__ = [
    "campaign_create",
    "campaign_end",
    "compliance",
    "consent",
    "consent_csv",
    "consent_verify",
    "device_register",
    "device_revoke",
    "devices_csv",
    "figures",
    "figures_csv",
    "member_reads",
    "notice",
    "notices",
    "notices_csv",
    "processing_record_download",
    "reward_active",
    "rewards",
    "rewards_csv",
    "staff",
    "staff_csv",
    "staff_tokens_revoke",
    "store",
    "store_rule",
    "stores",
    "stores_csv",
    "ticket",
    "ticket_action",
    "tickets",
    "tickets_csv",
]
