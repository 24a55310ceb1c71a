"""The counter portal's pages through Django's test client: scoping, input, records, language."""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from loyalty.models import EidScan, LedgerEntry, Member, MemberRead, ScanState
from loyalty.privacy import member_subject_key
from loyalty.purposes import Purpose
from privacy.models import ConsentAction, ConsentRecord, PrivacyTicket
from privacy.selectors import consent_latest
from stores.services import chain_settings_save
from tests.counter import member_in_url, member_ref, members_in_html
from tests.factories import (
    EidMemberFactory,
    MemberFactory,
    RewardFactory,
    StaffFactory,
    StoreFactory,
)
from tests.mailbox import mailed_code

pytestmark = pytest.mark.django_db

SITE = "https://shop.example"


def _html(response) -> str:
    return response.content.decode()


# Signing in and choosing the store
def test_pages_need_login(client, store):
    response = client.get("/counter/GNT01/")

    assert response.status_code == 302
    assert response["Location"].startswith("/counter/login/?next=")


def test_root_is_the_customers_page_and_the_counter_has_its_own(client):
    assert client.get("/").status_code == 200
    assert client.get("/counter/")["Location"].startswith("/counter/login/")


def test_login_then_straight_to_the_only_store(client, cashier):
    response = client.post(
        "/counter/login/", {"username": "cashier", "password": "pw-for-tests-only"}
    )
    assert response.status_code == 302
    response = client.get(response["Location"])
    assert response.status_code == 302 and response["Location"] == "/counter/GNT01/"


def test_wrong_password_says_so_and_keeps_the_user_name(client, cashier):
    client.cookies["django_language"] = "en"
    response = client.post("/counter/login/", {"username": "cashier", "password": "nope"})

    assert response.status_code == 200
    assert 'value="cashier"' in _html(response)
    assert "Wrong user name or password" in _html(response)


def test_staff_of_several_stores_picks_one(store, other_store):
    user = StaffFactory(username="roaming", store=store)
    StaffFactory(username="roaming", store=other_store)  # second assignment, same user
    client = Client()
    client.force_login(user)

    page = client.get("/counter/")
    assert page.status_code == 200
    assert "GNT01" in _html(page) and "LIE01" in _html(page)

    picked = client.post("/counter/stores/pick/", {"store": "LIE01"})
    assert picked["Location"] == "/counter/LIE01/"
    assert client.get("/counter/")["Location"] == "/counter/LIE01/"


def test_cannot_pick_a_store_one_does_not_work_in(counter, other_store):
    response = counter.post("/counter/stores/pick/", {"store": "LIE01"})

    assert response.status_code == 403
    assert counter.session.get("portal_store") != "LIE01"


def test_user_without_a_store_is_told(db):
    user = StaffFactory.build(username="nobody")
    user.save()
    client = Client()
    client.force_login(user)

    response = client.get("/counter/")
    assert response.status_code == 403
    assert "Vraag het aan uw verantwoordelijke" in _html(response)  # the default: Dutch
    client.cookies["django_language"] = "en"
    response = client.get("/counter/")
    assert "not assigned to any store" in _html(response)


# Scoping: a cashier acts only for their own store
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/counter/LIE01/"),
        ("post", "/counter/LIE01/search/"),
        ("get", "/counter/LIE01/join/"),
        ("get", "/counter/LIE01/eid/"),
        ("get", "/counter/LIE01/members/{member}/"),
        ("post", "/counter/LIE01/members/{member}/earn/"),
        ("post", "/counter/LIE01/members/{member}/redeem/"),
        ("post", "/counter/LIE01/members/{member}/eid/withdraw/"),
        ("post", "/counter/LIE01/members/{member}/export/"),
        ("post", "/counter/LIE01/members/{member}/erasure/"),
        ("get", "/counter/LIE01/members/{member}/card/"),
    ],
)
def test_other_stores_pages_are_forbidden(counter, other_store, method, path):
    member = MemberFactory(home_store=other_store)
    response = getattr(counter, method)(
        path.format(member=member.pk), {"amount": "10", "query": member.number}
    )

    assert response.status_code == 403
    assert "You do not work for this store" in _html(response)
    assert not LedgerEntry.objects.exists()
    assert not MemberRead.objects.exists()


def test_unknown_store_is_not_found_and_a_bare_member_id_refused(counter, store):
    member = MemberFactory(home_store=store)
    assert counter.get("/counter/NOPE1/").status_code == 404
    response = counter.get(f"/counter/GNT01/members/{member.pk}/")
    assert response.status_code == 400 and "Find the member again" in _html(response)
    assert not MemberRead.objects.exists()


@pytest.mark.parametrize(
    "path", ["", "earn/", "redeem/", "eid/withdraw/", "export/", "erasure/", "confirm/", "card/"]
)
def test_another_cashiers_or_an_expired_reference_is_refused(counter, store, cashier, path):
    member = MemberFactory(home_store=store, points_balance=50)
    colleague = StaffFactory(store=store)
    foreign = member_ref(member, staff=colleague, store=store)
    expired = member_ref(member, staff=cashier, store=store, now=time.time() - 3600)
    for reference in (foreign, expired):
        url = f"/counter/GNT01/members/{reference}/{path}"
        response = counter.post(url, {"amount": "10", "points": "5", "key": "k", "code": "1"})
        if path in ("", "card/"):
            response = counter.get(url)
        assert response.status_code == 400, (path, response.status_code)
    assert not LedgerEntry.objects.exists()
    assert not MemberRead.objects.exists()
    assert Member.objects.filter(pk=member.pk, points_balance=50).exists()


def test_another_stores_scan_is_not_found(counter, other_store):
    from stores.services import reader_device_register

    device, _ = reader_device_register(store=other_store, name="Caisse 1")
    scan = EidScan.objects.create(
        store=other_store,
        device=device,
        consent_subject="scan:x",
        notice_language="fr",
        expires_at=timezone.now() + timedelta(minutes=2),
    )

    assert counter.get(f"/counter/GNT01/eid/{scan.pk}/").status_code == 404
    assert counter.get(f"/counter/GNT01/eid/{scan.pk}/state/").status_code == 404


# Finding members
def test_search_by_number_scanned_goes_straight_to_the_member(counter, store, cashier):
    member = MemberFactory(home_store=store)

    response = counter.post("/counter/GNT01/search/", {"query": member.number})

    assert response.status_code == 302
    assert member_in_url(response["Location"], staff=cashier, store=store) == member.pk


def test_search_submitted_through_htmx_redirects_with_a_header(counter, store, cashier):
    member = MemberFactory(home_store=store)

    response = counter.post(
        "/counter/GNT01/search/",
        {"query": member.number},
        headers={"HX-Request": "true", "HX-Trigger": "search-form"},
    )

    assert response.status_code == 204
    assert member_in_url(response["HX-Redirect"], staff=cashier, store=store) == member.pk


@pytest.mark.parametrize("typed", ["email", "phone", "name"])
def test_search_as_one_types_lists_members(counter, store, cashier, typed):
    member = MemberFactory(
        home_store=store, given_name="Lotte", surname="Peeters", phone="+32470123456"
    )
    MemberFactory(home_store=store, given_name="Wout", surname="Maes")
    query = {"email": member.email.upper(), "phone": "0470 12 34 56", "name": "peeters lo"}[typed]

    response = counter.post(
        "/counter/GNT01/search/",
        {"query": query},
        headers={"HX-Request": "true", "HX-Trigger": "id_query"},
    )

    assert response.status_code == 200
    assert members_in_html(_html(response), staff=cashier, store=store) == {member.pk}
    assert "Maes" not in _html(response)
    assert "<html" not in _html(response)  # a fragment for htmx


def test_search_by_given_name_and_surname(counter, store, cashier):
    lotte = MemberFactory(home_store=store, given_name="Lotte", surname="De Smet")
    MemberFactory(home_store=store, given_name="Wout", surname="De Smet")

    live = {"HX-Request": "true", "HX-Trigger": "id_query"}

    for query in ["Lotte De Smet", "de smet lot", "L De Smet", "De Smet Lotte"]:
        html = _html(counter.post("/counter/GNT01/search/", {"query": query}, headers=live))
        assert members_in_html(html, staff=cashier, store=store) == {lotte.pk}, query
        assert "Wout" not in html, query


@pytest.mark.parametrize("query", ["De Smet", "smet lot", "de smit lot", "Lotte"])
def test_name_search_is_narrow(counter, store, cashier, query):
    # The whole surname and the first letters of the given name, nothing broader (rule 9).
    MemberFactory(home_store=store, given_name="Lotte", surname="De Smet")
    MemberFactory(home_store=store, given_name="Wout", surname="De Smet")
    live = {"HX-Request": "true", "HX-Trigger": "id_query"}
    html = _html(counter.post("/counter/GNT01/search/", {"query": query}, headers=live))
    assert members_in_html(html, staff=cashier, store=store) == set()
    assert not MemberRead.objects.exists()


def test_name_search_gives_at_most_five_with_masked_contact(counter, store, cashier):
    for i in range(7):
        MemberFactory(
            home_store=store, given_name=f"Jan{i}", surname="Peeters", email=f"jan{i}@example.be"
        )
    live = {"HX-Request": "true", "HX-Trigger": "id_query"}
    html = _html(counter.post("/counter/GNT01/search/", {"query": "Peeters Jan"}, headers=live))
    assert len(members_in_html(html, staff=cashier, store=store)) == 5
    assert "j***@example.be" in html and "jan0@example.be" not in html
    assert MemberRead.objects.filter(found_by="name_search", kind="lookup").count() == 5


def test_search_typo_in_member_number_is_told_and_kept(counter, store):
    member = MemberFactory(home_store=store)
    typo = member.number[:-1] + str((int(member.number[-1]) + 1) % 10)

    response = counter.post("/counter/GNT01/search/", {"query": typo})

    assert response.status_code == 400
    assert "typo" in _html(response)
    assert f'value="{typo}"' in _html(response)


def test_search_with_one_letter_asks_for_more(counter, store):
    response = counter.post("/counter/GNT01/search/", {"query": "x"})

    assert response.status_code == 400
    assert "Type a member number" in _html(response)


def test_search_terms_never_go_into_urls(counter, store):
    page = _html(counter.get("/counter/GNT01/"))

    assert 'method="post"' in page and "hx-post" in page
    assert counter.get("/counter/GNT01/search/").status_code == 405


# Joining with the form
def test_join_with_the_form(counter, store, cashier):
    response = counter.post(
        "/counter/GNT01/join/",
        {
            "given_name": "Fien",
            "surname": "Claes",
            "email": "fien.claes@example.be",
            "phone": "0470 11 22 33",
        },
    )

    member = Member.objects.get()
    assert member_in_url(response["Location"], staff=cashier, store=store) == member.pk
    assert (member.given_name, member.phone, member.joined_via) == ("Fien", "+32470112233", "form")
    page = counter.get(response["Location"])
    assert "Welcome, Fien!" in _html(page)


def test_join_form_asks_only_name_email_phone(counter, store):
    page = _html(counter.get("/counter/GNT01/join/"))

    form = page.split('action="/counter/GNT01/join/"')[1].split("</form>")[0]
    names = set(re.findall(r'<(?:input|select|textarea)[^>]*name="([^"]+)"', form))
    assert names - {"csrfmiddlewaretoken"} == {
        "given_name",
        "surname",
        "email",
        "phone",
    }
    assert "exactly the same" in page


def test_join_with_a_bad_phone_keeps_what_was_typed(counter, store):
    typed = {
        "given_name": "Fien",
        "surname": "Claes",
        "email": "fien.claes@example.be",
        "phone": "12",
    }
    response = counter.post("/counter/GNT01/join/", typed)

    assert response.status_code == 400
    html = _html(response)
    assert "This is not a valid phone number." in html
    assert 'value="fien.claes@example.be"' in html and 'value="12"' in html
    assert not Member.objects.exists()


def test_join_twice_with_the_same_email_is_told(counter, store):
    MemberFactory(email="fien@example.be")
    response = counter.post(
        "/counter/GNT01/join/",
        {
            "given_name": "Fien",
            "surname": "Claes",
            "email": "FIEN@example.be",
            "phone": "0470112233",
        },
    )

    assert response.status_code == 400
    assert "already exists" in _html(response)


# A member's page
def test_member_page_shows_balance_and_records_the_view(counter, store, cashier, ref):
    member = MemberFactory(home_store=store, points_balance=0)
    counter.post(f"/counter/GNT01/members/{ref(member)}/earn/", {"amount": "12,50", "key": "k1"})

    page = counter.get(f"/counter/GNT01/members/{ref(member)}/")

    assert page.status_code == 200
    assert 'id="balance">12<' in _html(page)
    view = MemberRead.objects.get()
    assert (view.member, view.staff, view.store) == (member, cashier, store)


def test_purchase_shows_the_points_at_once(counter, store, ref):
    member = MemberFactory(home_store=store)

    response = counter.post(
        f"/counter/GNT01/members/{ref(member)}/earn/",
        {"amount": "23,99", "key": "abc"},
        follow=True,
    )

    assert "+23 points for EUR 23.99. New balance: 23 points." in _html(response)
    # the same form sent twice (double click) records the purchase once
    counter.post(f"/counter/GNT01/members/{ref(member)}/earn/", {"amount": "23,99", "key": "abc"})
    assert LedgerEntry.objects.count() == 1


def test_bad_amount_is_told_and_kept(counter, store, ref):
    member = MemberFactory(home_store=store)

    response = counter.post(
        f"/counter/GNT01/members/{ref(member)}/earn/", {"amount": "12.5.0", "key": "k"}
    )

    assert response.status_code == 400
    assert "Type the purchase amount in euros" in _html(response)
    assert 'value="12.5.0"' in _html(response)
    assert "Traceback" not in _html(response)


@pytest.mark.parametrize("amount", ["1e3", "inf", "1_000"])
def test_an_amount_no_till_writes_is_refused(counter, store, ref, amount):
    member = MemberFactory(home_store=store)

    response = counter.post(
        f"/counter/GNT01/members/{ref(member)}/earn/", {"amount": amount, "key": "k"}
    )

    assert response.status_code == 400
    assert "Type the purchase amount in euros" in _html(response)
    assert LedgerEntry.objects.count() == 0


def test_redeem_a_reward_and_part_of_the_balance(counter, store, ref):
    member = MemberFactory(home_store=store, points_balance=0)
    reward = RewardFactory(name="Koffie", point_cost=50, stores=[store])
    counter.post(f"/counter/GNT01/members/{ref(member)}/earn/", {"amount": "100", "key": "e"})

    done = counter.post(
        f"/counter/GNT01/members/{ref(member)}/redeem/",
        {"reward": reward.pk, "key": "r"},
        follow=True,
    )
    assert "Redeemed: Koffie. New balance: 50 points." in _html(done)

    done = counter.post(
        f"/counter/GNT01/members/{ref(member)}/redeem/", {"points": "20", "key": "p"}, follow=True
    )
    assert "Redeemed: 20 points. New balance: 30 points." in _html(done)

    too_many = counter.post(
        f"/counter/GNT01/members/{ref(member)}/redeem/", {"points": "31", "key": "q"}
    )
    assert too_many.status_code == 400
    assert "does not have enough points" in _html(too_many)
    assert 'value="31"' in _html(too_many)
    member.refresh_from_db()
    assert member.points_balance == 30


def test_withdraw_eid_consent_keeps_the_member_and_points(counter, store, cashier, ref):
    member = EidMemberFactory(home_store=store, points_balance=0)
    counter.post(f"/counter/GNT01/members/{ref(member)}/earn/", {"amount": "40", "key": "e"})

    response = counter.post(f"/counter/GNT01/members/{ref(member)}/eid/withdraw/", follow=True)

    assert "eID consent withdrawn" in _html(response)
    member.refresh_from_db()
    assert member.points_balance == 40 and not hasattr(member, "eid_card")
    record = consent_latest(subject_key=member_subject_key(member), purpose="eid_recognition")
    assert record.action == ConsentAction.WITHDRAWN
    assert (record.channel, record.store, record.staff) == ("staff_portal", store, cashier)


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_export_at_the_counter_just_after_the_card_was_scanned(counter, store, fmt, ref):
    member = EidMemberFactory(home_store=store)
    reference = ref(member, found_by="eid")  # an eID scan recognised them just now
    counter.get(f"/counter/GNT01/members/{reference}/")

    response = counter.post(f"/counter/GNT01/members/{reference}/export/", {"format": fmt})

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    if fmt == "json":
        sections = json.loads(response.content)["sections"]
        assert sections["profile"][0]["number"] == member.number
        assert sections["member_reads"][0]["store"] == "GNT01"
        assert sections["member_reads"][0]["found_by"] == "eid"
    else:
        names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
        assert "profile.csv" in names and "member_reads.csv" in names
    ticket = PrivacyTicket.objects.get(kind="access")
    assert ticket.verification == "credential" and ticket.state == "completed"


def test_export_without_the_card_is_sent_after_the_code(
    counter, store, ref, mailoutbox, django_capture_on_commit_callbacks
):
    member = MemberFactory(home_store=store)
    reference = ref(member)  # found by number: the cashier's word alone
    with django_capture_on_commit_callbacks(execute=True):
        waiting = counter.post(f"/counter/GNT01/members/{reference}/export/", {"format": "json"})
    assert waiting.status_code == 200 and "six-digit code" in _html(waiting)
    assert waiting["Content-Type"].startswith("text/html")  # no data handed over
    assert [m.to for m in mailoutbox] == [[member.email]]
    code = mailed_code(member.email)

    with django_capture_on_commit_callbacks(execute=True):
        wrong = counter.post(
            f"/counter/GNT01/members/{reference}/confirm/", {"kind": "access", "code": "000000"}
        )
        assert wrong.status_code == 400
        done = counter.post(
            f"/counter/GNT01/members/{reference}/confirm/",
            {"kind": "access", "code": code},
            follow=True,
        )
    assert "sent to their e-mail address" in _html(done)
    assert len(mailoutbox) == 2 and mailoutbox[1].attachments  # the export, to the member
    ticket = PrivacyTicket.objects.get(kind="access")
    assert (ticket.verification, ticket.state) == ("email_code", "completed")


def test_erasure_waits_for_the_code_the_member_received(
    counter, store, ref, mailoutbox, django_capture_on_commit_callbacks
):
    member = MemberFactory(home_store=store)
    reference = ref(member)
    counter.get(f"/counter/GNT01/members/{reference}/")
    assert "The customer is here" in _html(
        counter.get(f"/counter/GNT01/members/{reference}/erasure/")
    )

    with django_capture_on_commit_callbacks(execute=True):
        waiting = counter.post(f"/counter/GNT01/members/{reference}/erasure/")
    # then: nothing is erased on the cashier's word
    assert "six-digit code" in _html(waiting)
    assert Member.objects.filter(pk=member.pk).exists()
    code = mailed_code(member.email)

    with django_capture_on_commit_callbacks(execute=True):
        response = counter.post(
            f"/counter/GNT01/members/{reference}/confirm/",
            {"kind": "erasure", "code": code},
            follow=True,
        )
    assert "erased" in _html(response)
    # tasks run in-process in tests: the erasure has run; reads stay, unlinked
    assert not Member.objects.filter(pk=member.pk).exists()
    assert not MemberRead.objects.filter(member__isnull=False).exists()
    assert PrivacyTicket.objects.get(kind="erasure").verification == "email_code"


def test_erasure_of_a_member_without_email_waits_for_head_office(counter, store, ref):
    member = EidMemberFactory(home_store=store)
    response = counter.post(f"/counter/GNT01/members/{ref(member)}/erasure/")
    assert "head office checks it" in _html(response)
    assert Member.objects.filter(pk=member.pk).exists()
    ticket = PrivacyTicket.objects.get(kind="erasure")
    assert ticket.state == "awaiting_verification" and not ticket.verification


def test_erasure_just_after_the_card_was_scanned_runs(
    counter, store, ref, django_capture_on_commit_callbacks
):
    member = EidMemberFactory(home_store=store)
    with django_capture_on_commit_callbacks(execute=True):
        response = counter.post(
            f"/counter/GNT01/members/{ref(member, found_by='eid')}/erasure/", follow=True
        )
    assert "erased" in _html(response)
    assert not Member.objects.filter(pk=member.pk).exists()


def test_an_old_eid_reference_is_not_a_confirmation(counter, store, ref, settings):
    member = EidMemberFactory(home_store=store)
    old = ref(member, found_by="eid", now=time.time() - settings.EID_PRESENTED_SECONDS - 5)
    counter.post(f"/counter/GNT01/members/{old}/erasure/")
    assert Member.objects.filter(pk=member.pk).exists()


def test_member_card_has_a_qr_code_of_the_number(counter, store, ref):
    member = MemberFactory(home_store=store)

    page = _html(counter.get(f"/counter/GNT01/members/{ref(member)}/card/"))

    assert "<svg" in page and member.number in page
    assert "data-print" in page and "/static/portal/print.js" in page
    assert "onclick" not in page  # no inline script: the CSP forbids it


def test_member_card_leads_to_the_chain_s_site(counter, store, ref, settings):
    from stores.services import chain_settings_save

    settings.SITE_URL = "http://127.0.0.1:8123"
    chain_settings_save(name="Winkels Peeters", privacy_contact="", site_url="")
    member = MemberFactory(home_store=store)

    page = _html(counter.get(f"/counter/GNT01/members/{ref(member)}/card/"))

    assert "Winkels Peeters" in page and "http://127.0.0.1:8123/" in page


# eID: consent first, then the read
def test_consent_screen_in_the_customers_language(counter, store, reader):
    counter.cookies["django_language"] = "nl"

    page = _html(counter.get("/counter/GNT01/eid/?lang=fr"))

    assert "Pouvons-nous lire votre carte eID" in page  # the notice, in French
    assert "Oui, lisez ma carte" in page  # the customer's buttons, in French
    assert "Taal van de klant" in page  # the cashier's interface stays Dutch
    # the notice points to the chain's public home, at the address head office set
    chain_settings_save(name="Dupont", privacy_contact="dpo@dupont.example", site_url=SITE)
    page = _html(counter.get("/counter/GNT01/eid/?lang=fr"))
    assert f"Votre adhésion et vos droits en ligne : {SITE}/" in page


def test_yes_records_consent_with_the_notice_and_arms_the_reader(counter, store, reader, cashier):
    response = counter.post(
        "/counter/GNT01/eid/", {"language": "fr", "notice_version": "1", "device": reader.pk}
    )

    scan = EidScan.objects.get()
    assert response["Location"] == f"/counter/GNT01/eid/{scan.pk}/"
    assert (scan.state, scan.device, scan.staff) == (ScanState.ARMED, reader, cashier)
    record = ConsentRecord.objects.get(subject_key=scan.consent_subject)
    assert (record.purpose, record.language, record.notice.version) == (
        Purpose.EID_RECOGNITION,
        "fr",
        1,
    )
    waiting = _html(counter.get(response["Location"]))
    assert 'hx-trigger="every 1s"' in waiting and "Waiting for the card" in waiting


def test_no_reader_means_the_form(counter, store):
    page = _html(counter.get("/counter/GNT01/eid/"))

    assert "No eID reader is registered" in page
    assert "/counter/GNT01/join/" in page


def test_another_stores_reader_cannot_be_armed(counter, store, reader, other_store):
    from stores.services import reader_device_register

    theirs, _ = reader_device_register(store=other_store, name="Caisse")
    response = counter.post(
        "/counter/GNT01/eid/", {"language": "nl", "notice_version": "1", "device": theirs.pk}
    )

    assert response.status_code == 400
    assert not EidScan.objects.exists()


def _scan(store, reader, **fields):
    return EidScan.objects.create(
        store=store,
        device=reader,
        consent_subject="scan:abc",
        notice_language="nl",
        expires_at=fields.pop("expires_at", timezone.now() + timedelta(minutes=2)),
        **fields,
    )


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"state": "failed", "failure_code": "card_removed"}, "taken out too soon"),
        ({"state": "failed", "failure_code": "reader_unavailable"}, "not connected"),
        ({"state": "failed", "failure_code": "card_unreadable"}, "could not be read"),
        ({"state": "failed", "failure_code": "no_card"}, "No card was put in"),
        ({"state": "expired"}, "waited too long"),
        ({"expires_at": timezone.now() - timedelta(seconds=1)}, "waited too long"),
    ],
)
def test_scan_problems_in_a_cashiers_words(counter, store, reader, fields, said):
    scan = _scan(store, reader, **fields)

    html = _html(counter.get(f"/counter/GNT01/eid/{scan.pk}/state/"))

    assert said in html
    assert "every 1s" not in html  # polling stops


def test_scan_greets_a_known_member_and_a_new_one(counter, store, reader):
    known = EidMemberFactory(home_store=store, given_name="Alice")
    greeted = _scan(store, reader, state="completed", member=known)
    new = _scan(store, reader, state="completed", member=known, member_created=True)

    assert "Hello again, Alice!" in _html(counter.get(f"/counter/GNT01/eid/{greeted.pk}/state/"))
    assert "A new membership was created" in _html(
        counter.get(f"/counter/GNT01/eid/{new.pk}/state/")
    )


def test_link_a_renewed_card_arms_with_the_member(counter, store, reader, ref):
    member = EidMemberFactory(home_store=store)

    counter.post(
        f"/counter/GNT01/members/{ref(member)}/eid/link/",
        {"language": "nl", "notice_version": "1", "device": reader.pk},
    )

    assert EidScan.objects.get().link_member == member


# Language
def test_switching_the_interface_language(counter, store):
    response = counter.post("/i18n/setlang/", {"language": "fr", "next": "/counter/GNT01/"})
    assert response["Location"] == "/counter/GNT01/"

    page = _html(counter.get("/counter/GNT01/"))
    assert 'lang="fr"' in page and "Trouver un membre" in page

    counter.post("/i18n/setlang/", {"language": "nl", "next": "/counter/GNT01/"})
    assert "Lid zoeken" in _html(counter.get("/counter/GNT01/"))


# Server work does not grow with data
def test_member_page_queries_do_not_grow_with_the_ledger(
    counter, store, django_assert_max_num_queries, ref
):
    member = MemberFactory(home_store=store)
    rewards = [RewardFactory(stores=[store]) for _ in range(3)]
    counter.post(f"/counter/GNT01/members/{ref(member)}/earn/", {"amount": "500", "key": "a"})
    counter.post(
        f"/counter/GNT01/members/{ref(member)}/redeem/", {"reward": rewards[0].pk, "key": "b"}
    )
    with django_assert_max_num_queries(14) as few:
        counter.get(f"/counter/GNT01/members/{ref(member)}/")
    baseline = len(few.captured_queries)
    for i in range(30):
        counter.post(f"/counter/GNT01/members/{ref(member)}/earn/", {"amount": "5", "key": f"k{i}"})
    RewardFactory.create_batch(5, stores=[store])
    other = StoreFactory()
    counter.get(f"/counter/GNT01/members/{ref(member)}/")

    with django_assert_max_num_queries(baseline):
        counter.get(f"/counter/GNT01/members/{ref(member)}/")
    assert other  # a second store changes nothing either


def test_search_queries_do_not_grow_with_the_results(counter, store, django_assert_max_num_queries):
    MemberFactory.create_batch(2, home_store=store, surname="Peeters", given_name="Jan")
    with django_assert_max_num_queries(10) as few:
        counter.post("/counter/GNT01/search/", {"query": "Peeters Jan"})
    baseline = len(few.captured_queries)
    MemberFactory.create_batch(25, home_store=store, surname="Peeters", given_name="Jan")

    with django_assert_max_num_queries(baseline):
        response = counter.post("/counter/GNT01/search/", {"query": "Peeters Jan"})
    assert _html(response).count("/members/") == 5


def test_other_stores_lines_show_date_store_and_points_only(
    counter, store, other_store, cashier, ref
):
    member = MemberFactory(home_store=store, points_balance=30)
    now = timezone.now()
    for where, amount in ((store, "11.11"), (other_store, "77.77")):
        LedgerEntry.objects.create(
            member=member,
            store=where,
            kind="earn",
            points=15,
            balance_after=15,
            purchase_amount=amount,
            reference="till-ref-" + where.code,
            created_at=now,
        )
    page = _html(counter.get(f"/counter/GNT01/members/{ref(member)}/"))
    assert "11.11" in page or "11,11" in page
    assert "77.77" not in page and "77,77" not in page
    assert "LIE01" in page and "Another store" in page
    read = MemberRead.objects.get()
    assert (read.kind, read.found_by, read.staff) == ("page", "number", cashier)


def test_without_a_reader_the_cashier_is_told_who_registers_one(counter, store):
    page = counter.get(f"/counter/{store.code}/eid/")

    assert page.status_code == 200
    assert "head office registers readers on the dashboard" in _html(page)


@pytest.mark.parametrize(
    ("language", "off", "on"),
    [
        (
            "nl",
            "het hoofdkantoor registreert lezers in het dashboard",
            "de winkelverantwoordelijke registreert lezers in het dashboard (Lezers)",
        ),
        (
            "fr",
            "le siège enregistre les lecteurs dans le tableau de bord",
            "le responsable du magasin enregistre les lecteurs dans le tableau de bord (Lecteurs)",
        ),
    ],
)
def test_the_no_reader_message_names_the_store_manager_once_head_office_lets_them(
    counter, store, language, off, on
):
    from stores.services import chain_settings_save

    counter.cookies["django_language"] = language
    before = _html(counter.get(f"/counter/{store.code}/eid/"))

    chain_settings_save(name="", privacy_contact="", site_url="", managers_register_readers=True)
    after = _html(counter.get(f"/counter/{store.code}/eid/"))

    assert off in before and on not in before
    assert on in after


# Transactional: the erasure task runs as the request's transaction commits (tasks are eager
# here), before the page is answered, the way a counter without a worker sees it.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("language", "done", "later"),
    [
        ("en", "the member's data has been erased.", "will be erased by"),
        ("nl", "de gegevens van het lid zijn gewist.", "uiterlijk"),
        ("fr", "les données du membre ont été effacées.", "au plus tard"),
    ],
)
def test_after_an_erasure_at_the_counter_the_message_says_it_is_done(
    counter, store, ref, language, done, later, monkeypatch
):
    # Tasks in-process even after the session's real worker started (pytest-django runs the
    # transactional tests last, and the worker fixture leaves Celery sending to it): this is
    # the counter without a worker.
    from config.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    # given: a member who presented their card asks to be erased
    member = EidMemberFactory(home_store=store)
    counter.cookies["django_language"] = language

    # when
    response = counter.post(
        f"/counter/GNT01/members/{ref(member, found_by='eid')}/erasure/", follow=True
    )

    # then: the erasure ran and the cashier reads that it is done, not a date it will be by
    assert not Member.objects.filter(pk=member.pk).exists()
    ticket = PrivacyTicket.objects.get(kind="erasure")
    assert ticket.state == "completed"
    [message] = re.findall(r'class="message[^"]*">([^<]*)<', _html(response))
    assert str(ticket.pk) in message and done in message.replace("&#x27;", "'")
    assert later not in message
