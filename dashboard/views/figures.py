"""Figures across stores and per store, with charts and CSV."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from dashboard import charts, forms, selectors, services
from dashboard.views.common import office_page, table_csv


def _figures(request):
    access = request.office
    form = forms.PeriodForm(request.GET or None, stores=access.stores)
    start, end, store = form.period()
    figures = selectors.figures_for(
        access=access, start=start, end=end, store_ids=[store.pk] if store else None
    )
    return form, figures


@office_page()
@require_GET
def figures(request):
    services.stats_refresh_if_no_scheduler()
    form, f = _figures(request)
    week_labels = [w["week"].strftime("%d/%m") for w in f.weeks]
    eid, form_label = _("eID card"), _("Form")
    chart = {
        "joined": charts.stacked_bars(
            _("New members per week"),
            week_labels,
            [
                (eid, [w["new_members_eid"] for w in f.weeks], "s-eid"),
                (form_label, [w["new_members_form"] for w in f.weeks], "s-form"),
            ],
        ),
        "points": charts.lines(
            _("Points per week"),
            week_labels,
            [
                (_("Issued"), [w["points_issued"] for w in f.weeks], "s-issued"),
                (_("Redeemed"), [w["points_redeemed"] for w in f.weeks], "s-redeemed"),
                (_("Expired"), [w["points_expired"] for w in f.weeks], "s-expired"),
            ],
        ),
        "channels": charts.shares(
            _("How members joined"),
            [(r["store"].code, [r["new_members_eid"], r["new_members_form"]]) for r in f.per_store]
            + (
                [(_("All"), [f.totals["new_members_eid"], f.totals["new_members_form"]])]
                if len(f.per_store) > 1
                else []
            ),
            [(eid, "s-eid"), (form_label, "s-form")],
        ),
        "rewards": charts.hbars(
            _("Redemptions per reward"),
            [r["reward__name"] for r in f.rewards],
            [r["redemptions"] for r in f.rewards],
            "s-redeemed",
        ),
        "active": charts.stacked_bars(
            _("Active members per month"),
            [m["month"].strftime("%m/%Y") for m in f.months],
            [
                (
                    _("Active members"),
                    [m["chain"] if f.chain_wide else sum(m["stores"].values()) for m in f.months],
                    "s-active",
                )
            ],
        ),
    }
    query = request.GET.urlencode()
    return render(
        request,
        "dashboard/figures.html",
        {"form": form, "f": f, "chart": chart, "query": query, "nav": "figures"},
    )


@office_page()
@require_GET
def figures_csv(request, key: str):
    _form, f = _figures(request)
    table = f.tables.get(key)
    if table is None:
        raise Http404
    return table_csv(table, f"-{f.start.isoformat()}-{f.end.isoformat()}")
