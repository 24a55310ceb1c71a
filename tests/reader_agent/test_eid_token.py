import hashlib
import hmac
import stat

import pytest

from reader_agent.eid_token import EidTokeniser, generate_key_file, key_file_is_private
from reader_agent.errors import ConfigurationError


def test_generated_key_file_is_private_and_gives_stable_tokens(tmp_path):
    path = generate_key_file(tmp_path / "agent" / "eid.key")

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key_file_is_private(path)
    key = bytes.fromhex(path.read_text())
    token = EidTokeniser.from_key_file(path).token_for("591000123475")
    assert token == hmac.new(key, b"591000123475", hashlib.sha256).hexdigest()
    assert len(token) == 64
    assert token == EidTokeniser.from_key_file(path).token_for("591000123475")


def test_refuses_to_overwrite_a_key(tmp_path):
    path = generate_key_file(tmp_path / "eid.key")
    before = path.read_text()

    with pytest.raises(ConfigurationError):
        generate_key_file(path)

    assert path.read_text() == before


def test_different_keys_give_unlinkable_tokens():
    one = EidTokeniser(b"\x01" * 32).token_for("591000123475")
    two = EidTokeniser(b"\x02" * 32).token_for("591000123475")

    assert one != two


@pytest.mark.parametrize("content", ["", "not hex", "ab" * 16])
def test_bad_key_files_are_configuration_errors(tmp_path, content):
    path = tmp_path / "eid.key"
    path.write_text(content)

    with pytest.raises(ConfigurationError):
        EidTokeniser.from_key_file(path)


def test_missing_key_file_says_how_to_make_one(tmp_path):
    with pytest.raises(ConfigurationError, match="--generate-key"):
        EidTokeniser.from_key_file(tmp_path / "absent.key")


def test_repr_hides_the_key():
    assert "01" not in repr(EidTokeniser(b"\x01" * 32))
