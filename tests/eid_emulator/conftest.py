import pytest

from tests.pcsc_support import missing_requirements, pcsc_stack


@pytest.fixture
def pcsc(tmp_path):
    """A running pcscd whose vpcd reader is empty."""
    reason = missing_requirements()
    if reason:
        pytest.skip(reason)
    with pcsc_stack(card=None, apdu_log=tmp_path / "apdu.log") as stack:
        yield stack
