import pytest

from core.errors import InvalidEmail, InvalidInput, InvalidPhone, MemberExists
from loyalty.models import JoinChannel, Member
from loyalty.services import member_enroll_by_eid, member_enroll_by_form
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def test_form_join_keeps_only_name_email_phone(store):
    member = member_enroll_by_form(
        store=store,
        given_name=" Lotte ",
        surname="Peeters",
        email="Lotte.Peeters@Example.BE",
        phone="0470 12 34 56",
    )
    assert member.joined_via == JoinChannel.FORM
    assert member.given_name == "Lotte"
    assert member.email == "Lotte.Peeters@example.be"
    assert member.phone == "+32470123456"
    assert member.home_store == store
    assert member.points_balance == 0


def test_email_is_unique_case_insensitively(store):
    MemberFactory(email="fien@example.be")
    with pytest.raises(MemberExists):
        member_enroll_by_form(
            store=store,
            given_name="Fien",
            surname="Maes",
            email="FIEN@EXAMPLE.BE",
            phone="+32471000001",
        )
    assert Member.objects.count() == 1


@pytest.mark.parametrize("phone", ["12", "not a phone", "+32 1", "0470 12 34 56 78 90 12"])
def test_bad_phone_is_refused(store, phone):
    with pytest.raises(InvalidPhone):
        member_enroll_by_form(
            store=store, given_name="A", surname="B", email="a@example.be", phone=phone
        )


@pytest.mark.parametrize("email", ["", "nope", "a@", "@b.be", "a b@c.be"])
def test_bad_email_is_refused(store, email):
    with pytest.raises(InvalidEmail):
        member_enroll_by_form(
            store=store, given_name="A", surname="B", email=email, phone="+32470000000"
        )


def test_french_numbers_are_accepted_in_e164(store):
    member = member_enroll_by_form(
        store=store,
        given_name="Léa",
        surname="Dubois",
        email="lea@example.fr",
        phone="+33 6 12 34 56 78",
    )
    assert member.phone == "+33612345678"


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "R2D2"])
def test_bad_names_are_refused(store, name):
    with pytest.raises(InvalidInput):
        member_enroll_by_form(
            store=store, given_name=name, surname="B", email="a@example.be", phone="+32470000000"
        )


def test_eid_join_keeps_name_and_token_only(store):
    member = member_enroll_by_eid(
        store=store, given_name="Françoise", surname="Dubois-Lefèvre", eid_token="ab" * 32
    )
    assert member.joined_via == JoinChannel.EID
    assert member.email is None and member.phone is None
    assert member.eid_card.token == "ab" * 32


def test_schema_has_no_field_for_forbidden_personal_data():
    from django.apps import apps

    forbidden = (
        "national",
        "rijksregister",
        "rrn",
        "birth",
        "gender",
        "sex",
        "address",
        "photo",
        "street",
        "postal",
    )
    for model in apps.get_models():
        if model._meta.app_label == "axes":
            continue  # staff login throttling (addresses of failed logins), not customer data
        for field in model._meta.get_fields():
            name = field.name.lower()
            assert not any(word in name for word in forbidden), f"{model.__name__}.{field.name}"
