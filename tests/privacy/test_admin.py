"""Django admin for privacy: consent records read-only, notices published through the service."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from loyalty.purposes import Purpose
from privacy.models import ConsentRecord, NoticeVersion, RetentionRun
from privacy.services import consent_give, retention_open_tickets


@pytest.fixture
def admin_client(client, db):
    user = get_user_model().objects.create_superuser("root", "root@example.invalid", "pw")
    client.force_login(user)
    return client


def test_admin_pages_render(admin_client):
    record = consent_give(
        subject_key="scan:abc", purpose=Purpose.EID_RECOGNITION, channel="web", language="en"
    )
    for url in (
        "/admin/privacy/consentrecord/",
        f"/admin/privacy/consentrecord/{record.pk}/change/",
        "/admin/privacy/privacyticket/",
        "/admin/privacy/noticeversion/",
        "/admin/privacy/noticeversion/add/",
        "/admin/privacy/retentionrun/",
    ):
        assert admin_client.get(url).status_code == 200, url


def test_consent_records_cannot_be_changed_or_deleted_in_admin(admin_client):
    record = consent_give(
        subject_key="scan:abc", purpose=Purpose.EID_RECOGNITION, channel="web", language="en"
    )

    admin_client.post(f"/admin/privacy/consentrecord/{record.pk}/change/", {"action": "withdrawn"})
    admin_client.post(f"/admin/privacy/consentrecord/{record.pk}/delete/", {"post": "yes"})

    record.refresh_from_db()
    assert record.action == "given"
    assert ConsentRecord.objects.count() == 1


def test_retention_runs_are_read_only_in_admin(admin_client):
    retention_open_tickets()
    run = RetentionRun.objects.get()

    assert admin_client.get("/admin/privacy/retentionrun/add/").status_code == 403
    admin_client.post(f"/admin/privacy/retentionrun/{run.pk}/change/", {"tickets_opened": 9})
    admin_client.post(f"/admin/privacy/retentionrun/{run.pk}/delete/", {"post": "yes"})

    run.refresh_from_db()
    assert run.tickets_opened == 0


def test_adding_a_notice_in_admin_publishes_a_new_version(admin_client):
    response = admin_client.post(
        "/admin/privacy/noticeversion/add/",
        {"purpose": "marketing_email", "language": "nl", "text": "Nieuwe tekst."},
    )

    assert response.status_code == 302
    latest = NoticeVersion.objects.filter(purpose="marketing_email", language="nl").first()
    assert (latest.version, latest.text) == (2, "Nieuwe tekst.")
