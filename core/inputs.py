"""Shared checks for hostile input: plain numbers, clean text, safe CSV cells.

Every layer that takes text or numbers from outside uses these, so that a Unicode digit, a
control character or a number too large for its column is refused with a clear 4xx in one
way, instead of reaching `int()` or the database and ending as a 500 or a silent wrap.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Any

# PostgreSQL's `integer` (Django's IntegerField and PositiveIntegerField) and `bigint` (ids).
INT32_MAX = 2_147_483_647
BIGINT_MAX = 9_223_372_036_854_775_807
# The most points one price, cost or ledger entry may carry (loyalty's MAX_POINTS_PER_ENTRY).
MAX_POINTS = 10_000_000
# Unicode categories refused in names and free text: controls (NUL, ESC...), format characters
# (zero-width joiners, right-to-left overrides), surrogates, and the line and paragraph
# separators. Private-use and unassigned code points are not refused: they are not invisible
# controls, and a character assigned by a later Unicode version must not start failing.
FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# A spreadsheet runs a cell that starts with one of these as a formula.
CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def plain_int(value: Any, *, minimum: int = 0, maximum: int = INT32_MAX) -> int | None:
    """Return `value` as an int if it is ASCII digits (or an int) within bounds, else None.

    `str.isdigit()` accepts "²" and "٣", which `int()` refuses or reads differently: only
    0-9 count here.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if not text or len(text) > 19 or not (text.isascii() and text.isdigit()):
            return None
        number = int(text)
    return number if minimum <= number <= maximum else None


# An amount as a till or a person writes it: digits, and a decimal point or comma ("12,34").
PLAIN_DECIMAL = re.compile(r"[0-9]{1,12}(?:[.,][0-9]{1,12})?")


def plain_decimal(value: Any) -> Decimal | None:
    """Return `value` as a Decimal if it is written as a plain decimal number, else None.

    `Decimal()` also takes "1e3" (a thousand), "inf", "NaN", "1_000" and Unicode digits,
    which no till writes and which turn a typo into a big purchase: only 0-9 with at most one
    decimal point or comma count here. An int is taken as it is.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if not isinstance(value, str) or not PLAIN_DECIMAL.fullmatch(value.strip()):
        return None
    return Decimal(value.strip().replace(",", "."))


def ascii_digits(value: str) -> bool:
    """Return whether `value` is one or more of the ASCII digits 0-9 and nothing else."""
    return bool(value) and value.isascii() and value.isdigit()


def _forbidden(ch: str) -> bool:
    # In the Basic Multilingual Plane: the controls and invisible formatting that matter (NUL,
    # ESC, zero-width joiners, bidi overrides, soft hyphen) are all there; the few format
    # characters beyond it (tags of emoji flags, musical and hieroglyph layout) are not refused,
    # so that a schema pattern can say exactly what is (regex engines differ on astral ranges).
    return ch <= "\uffff" and unicodedata.category(ch) in FORBIDDEN_CATEGORIES


def text_forbidden(value: str) -> bool:
    """Return whether the text holds a control, format or other invisible character."""
    return _FORBIDDEN_SEARCH(value) is not None


def _forbidden_ranges(*, whitespace: bool) -> list[tuple[int, int]]:
    # Surrogates are left out: no UTF-8 text holds one, and regex engines built on Unicode
    # scalar values (the schema validators') refuse a pattern that names them.
    ranges: list[tuple[int, int]] = []
    for point in range(0x10000):
        ch = chr(point)
        if unicodedata.category(ch) == "Cs" or (whitespace and ch.isspace()):
            continue
        if _forbidden(ch):
            if ranges and ranges[-1][1] == point - 1:
                ranges[-1] = (ranges[-1][0], point)
            else:
                ranges.append((point, point))
    return ranges


def _escape(point: int) -> str:
    # BMP code points as \uXXXX (read alike by Python's and ECMAScript's regexes); the few
    # astral ones literally.
    return f"\\u{point:04x}" if point <= 0xFFFF else chr(point)


def _class_of(ranges: list[tuple[int, int]]) -> str:
    return "".join(_escape(a) if a == b else f"{_escape(a)}-{_escape(b)}" for a, b in ranges)


# The characters `text_unsafe` refuses, as the inside of a regex character class.
FORBIDDEN_CLASS = _class_of(_forbidden_ranges(whitespace=True))
# JSON Schema patterns of the text API inputs take (core.api): no character `text_unsafe`
# refuses (whitespace apart, which names collapse to one space); VISIBLE_TEXT_PATTERN for a
# field that may not be blank (DRF trims it first) needs a character other than whitespace.
TEXT_PATTERN = f"^[^{FORBIDDEN_CLASS}]*$"
VISIBLE_TEXT_PATTERN = rf"^\s*[^\s{FORBIDDEN_CLASS}][^{FORBIDDEN_CLASS}]*$"
# The same characters as compiled searches, surrogates included (a JSON string may hold a lone
# one, which `_forbidden` refuses): every request's path and every text input goes through
# them, one C loop instead of a Python call per character. tests/security holds them to
# `_forbidden` for every code point of the BMP.
_SURROGATES = "\\ud800-\\udfff"
_FORBIDDEN_SEARCH = re.compile(
    f"[{_class_of(_forbidden_ranges(whitespace=False))}{_SURROGATES}]"
).search
_UNSAFE_SEARCH = re.compile(f"[{FORBIDDEN_CLASS}{_SURROGATES}]").search


def text_unsafe(value: str) -> bool:
    """Return whether API input text holds a forbidden character other than whitespace."""
    return _UNSAFE_SEARCH(value) is not None


def text_clean(value: str) -> str | None:
    """Return the text NFC-normalised with its whitespace collapsed, or None if it is unsafe.

    Tabs and newlines count as whitespace (collapsed to one space); anything else invisible
    refuses the whole value rather than being dropped silently.
    """
    collapsed = " ".join(unicodedata.normalize("NFC", str(value)).split())
    return None if text_forbidden(collapsed) else collapsed


def csv_cell(value: Any) -> Any:
    """Return a CSV cell a spreadsheet shows as text: a leading = + - @ tab or CR is quoted.

    Numbers are left as they are (a negative number is data, not a formula).
    """
    if isinstance(value, str) and value.startswith(CSV_FORMULA_START):
        return "'" + value
    return value


def csv_row(row) -> list:
    """Return a row with every cell made safe by `csv_cell`."""
    return [csv_cell(cell) for cell in row]
