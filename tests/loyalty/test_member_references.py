"""Member references: opaque, bound to staff and store, short-lived, refused when foreign."""

import time

import pytest

from core.errors import MemberReferenceExpired, MemberReferenceInvalid
from loyalty.models import FoundBy
from loyalty.references import FOUND_BY, member_reference_issue, member_reference_read


def test_found_by_codes_match_the_model():
    assert set(FOUND_BY) == set(FoundBy.values)


def test_a_reference_reads_back_for_its_staff_and_store(settings):
    ref = member_reference_issue(member_id=202, store_id=3, staff_id=7, found_by="email")
    read = member_reference_read(ref, store_id=3, staff_id=7)
    assert (read.member_id, read.found_by) == (202, "email")
    # Opaque: the member id is not readable from it, and two references differ.
    assert "202" not in ref
    assert ref != member_reference_issue(member_id=202, store_id=3, staff_id=7, found_by="email")


@pytest.mark.parametrize(
    ("store_id", "staff_id"), [(4, 7), (3, 8)], ids=["other store", "other staff"]
)
def test_a_reference_is_refused_elsewhere(store_id, staff_id):
    ref = member_reference_issue(member_id=202, store_id=3, staff_id=7, found_by="number")
    with pytest.raises(MemberReferenceInvalid):
        member_reference_read(ref, store_id=store_id, staff_id=staff_id)


@pytest.mark.parametrize("bad", ["202", "", "mr_" + "A" * 64, None, "mr_x\n", "²²²"])
def test_garbage_and_bare_ids_are_refused(bad):
    with pytest.raises(MemberReferenceInvalid):
        member_reference_read(bad, store_id=3, staff_id=7)


def test_a_tampered_reference_is_refused():
    ref = member_reference_issue(member_id=202, store_id=3, staff_id=7, found_by="number")
    middle = len(ref) // 2
    flipped = ref[:middle] + ("A" if ref[middle] != "A" else "B") + ref[middle + 1 :]
    with pytest.raises(MemberReferenceInvalid):
        member_reference_read(flipped, store_id=3, staff_id=7)


def test_a_reference_expires(settings):
    settings.MEMBER_REFERENCE_SECONDS = 60
    issued = time.time() - 61
    ref = member_reference_issue(
        member_id=202, store_id=3, staff_id=7, found_by="number", now=issued
    )
    with pytest.raises(MemberReferenceExpired):
        member_reference_read(ref, store_id=3, staff_id=7)


def test_a_new_secret_key_voids_every_reference(settings):
    ref = member_reference_issue(member_id=202, store_id=3, staff_id=7, found_by="number")
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    with pytest.raises(MemberReferenceInvalid):
        member_reference_read(ref, store_id=3, staff_id=7)
