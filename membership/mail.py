"""Marketing mail: only to members who consent, each with its own unsubscribe link."""

from __future__ import annotations

from loyalty.models import Member
from loyalty.purposes import Purpose
from membership import selectors, services
from privacy.mail import mail_send, site_url


def marketing_mail_send(*, member: Member, language: str, subject: str, text: str) -> bool:
    """Send an offer to a member who consents to offers by e-mail; return whether it went.

    Every such mail carries an unsubscribe link in its text and in the List-Unsubscribe
    header (one click, RFC 8058); it withdraws the consent at once.
    """
    if not member.email or not selectors.consent_given(
        member=member, purpose=Purpose.MARKETING_EMAIL.value
    ):
        return False
    link = site_url(
        "membership:unsubscribe",
        language=language,
        token=services.unsubscribe_token(member=member),
    )
    mail_send(
        to=member.email,
        language=language,
        template="membership/email/offer",
        context={"subject": subject, "text": text, "unsubscribe": link},
        headers={
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    return True
