"""Charts count things: whole-number ticks, numbers written the way the reader's language does."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from dashboard import charts


def _ticks(svg: str) -> list[str]:
    return re.findall(r'<text class="tick" x="50\.0" [^>]*>([^<]*)</text>', svg)


@pytest.mark.parametrize(
    ("largest", "expected"),
    [
        (5, ["0", "2", "4", "6"]),
        (3, ["0", "1", "2", "3"]),
        (1, ["0", "1"]),
        (0, ["0", "1"]),
        (38, ["0", "10", "20", "30", "40"]),
        (1_700, ["0", "500", "1k", "1,5k", "2k"]),
    ],
)
def test_axis_ticks_are_whole_numbers(largest, expected):
    with translation.override("nl"):
        svg = charts.stacked_bars("Nieuwe leden", ["01/12", "08/12"], [("eID", [0, largest], "s")])

    assert _ticks(svg) == expected


def test_values_are_grouped_the_way_the_language_writes_them():
    labels, values = ["Koffie"], [12_345]
    with translation.override("nl"):
        dutch = charts.hbars("Inwisselingen", labels, values)
    with translation.override("fr"):
        french = charts.hbars("Échanges", labels, values)

    assert ">12.345<" in dutch
    assert ">12\u202f345<" in french or ">12\xa0345<" in french or ">12 345<" in french
