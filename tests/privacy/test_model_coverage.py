"""Every model of every installed app is covered by an eraser or declared (rule 7).

A new model nobody thought about at erasure time fails here, and so does a model declared as
holding nothing that has a field for personal data or points at a person's data.
"""

from __future__ import annotations

import dataclasses

import pytest
from django.apps import apps

from privacy.registry import TraceDeclaration, Traces, registry
from privacy.services.erasure_coverage import trace_coverage_gaps


def test_every_model_of_every_installed_app_is_accounted_for():
    assert trace_coverage_gaps() == []
    labels = {m._meta.label for m in apps.get_models(include_auto_created=True)}
    assert labels == set(registry.covered_models()) | set(registry.traces)


def test_what_the_access_model_added_is_covered():
    covered = registry.covered_models()
    assert covered["loyalty.MemberRead"] == ["loyalty.reads"]
    assert covered["admin.LogEntry"] == ["loyalty"]
    assert registry.traces["stores.StaffToken"].traces == Traces.STAFF


def test_a_model_nobody_declared_is_a_gap(monkeypatch):
    traces = dict(registry.traces)
    del traces["loyalty.Reward"]
    monkeypatch.setattr(registry, "traces", traces)

    assert trace_coverage_gaps() == [
        "loyalty.Reward: no eraser covers it and it is not declared (declare_traces)"
    ]


@pytest.mark.parametrize("traces", [Traces.NONE, Traces.STAFF])
def test_a_model_declared_instead_of_covered_is_checked_field_by_field(monkeypatch, traces):
    # given: the record of staff reads declared as if it held nothing, its eraser gone
    erasers = dict(registry.erasers)
    erasers["loyalty.reads"] = dataclasses.replace(erasers["loyalty.reads"], covers=())
    monkeypatch.setattr(registry, "erasers", erasers)
    declared = dict(registry.traces)
    declared["loyalty.MemberRead"] = TraceDeclaration("loyalty.MemberRead", traces, "forgotten")
    monkeypatch.setattr(registry, "traces", declared)

    gaps = trace_coverage_gaps()

    expected = [
        "loyalty.MemberRead.member: points at loyalty.Member, which holds a person's data; "
        "an eraser must cover it"
    ]
    if traces == Traces.NONE:
        expected.append("loyalty.MemberRead.staff: a staff account in a model declared as none")
    assert gaps == expected


def test_personal_fields_in_a_model_declared_as_none_are_gaps(monkeypatch):
    declared = dict(registry.traces)
    declared["auth.User"] = TraceDeclaration("auth.User", Traces.NONE, "wrong")
    monkeypatch.setattr(registry, "traces", declared)

    assert trace_coverage_gaps() == [
        f"auth.User.{name}: personal data in a model declared as none"
        for name in ("username", "first_name", "last_name", "email")
    ]


def test_a_declaration_left_behind_by_a_removed_model_is_a_gap(monkeypatch):
    declared = dict(registry.traces)
    declared["loyalty.PlasticCard"] = TraceDeclaration("loyalty.PlasticCard", Traces.NONE, "gone")
    monkeypatch.setattr(registry, "traces", declared)

    assert trace_coverage_gaps() == [
        "loyalty.PlasticCard: covered or declared, but not a model of an installed app"
    ]


def test_declaring_a_covered_model_is_a_gap(monkeypatch):
    declared = dict(registry.traces)
    declared["loyalty.Member"] = TraceDeclaration("loyalty.Member", Traces.STAFF, "twice")
    monkeypatch.setattr(registry, "traces", declared)

    assert trace_coverage_gaps() == ["loyalty.Member: covered by loyalty and also declared"]
