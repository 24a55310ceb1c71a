"""The head-office dashboard's pages. Each one parses input, calls a selector or a service,
and renders; who may see what is decided by `selectors.office_access`.
"""

from dashboard.views.campaigns import campaign_end, campaigns, coupons, tiers
from dashboard.views.compliance import (
    compliance,
    dpia_download,
    dpia_odt_download,
    processing_record_download,
)
from dashboard.views.configuration import (
    campaign_create,
    chain,
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
from dashboard.views.readers import reader_register, reader_revoke, readers
from dashboard.views.webhooks import webhook_active, webhooks

__all__ = [
    "campaign_create",
    "campaign_end",
    "campaigns",
    "chain",
    "compliance",
    "consent",
    "consent_csv",
    "consent_verify",
    "coupons",
    "device_register",
    "device_revoke",
    "devices_csv",
    "dpia_download",
    "dpia_odt_download",
    "figures",
    "figures_csv",
    "member_reads",
    "notice",
    "notices",
    "notices_csv",
    "processing_record_download",
    "reader_register",
    "reader_revoke",
    "readers",
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
    "tiers",
    "webhook_active",
    "webhooks",
]
