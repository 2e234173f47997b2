"""Charts for statistics pages: plain ECharts option dicts, drawn by the vendored ECharts.

A view builds an option with :func:`bar_chart`, :func:`line_chart` or :func:`pie_chart` and hands it
to the ``chart`` macro of ``union/charts.html``; ``static/js/charts.js`` draws every chart of the page.
A data point may carry a ``url``: clicking it opens that (filtered) list, so each figure drills down.
Numbers only (Decimal becomes float here, for drawing; tables keep the Decimal).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

# one palette for every page: 已认证 green, 待审核 amber, 驳回 red, the rest blue/grey
PALETTE = ["#5470c6", "#91cc75", "#fac858", "#ee6666", "#73c0de", "#3ba272", "#fc8452", "#9a60b4", "#909399"]


@dataclass(frozen=True)
class Series:
    """One series: its name, one value per category, optional colour and one link per value."""

    name: str
    values: Sequence
    color: str | None = None
    urls: Sequence[str | None] | None = None


def _number(value):
    if value is None:
        return 0
    return float(value) if isinstance(value, Decimal) else value


def _points(series: Series) -> list[dict]:
    urls = series.urls or [None] * len(series.values)
    points = []
    for value, url in zip(series.values, urls):
        point = {"value": _number(value)}
        if url:
            point["url"] = url
        points.append(point)
    return points


def _base(title: str, legend: Sequence[str]) -> dict:
    return {
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"data": list(legend), "bottom": 0},
        "grid": {"left": 12, "right": 24, "top": 40, "bottom": 36, "containLabel": True},
        "color": PALETTE,
        "animation": False,
    }


def bar_chart(title: str, categories: Sequence[str], series: Sequence[Series], *, stacked: bool = False,
              horizontal: bool = False, percent_axis: bool = False) -> dict:
    """Bars per category (one colour per series); ``horizontal`` for long category names."""
    option = _base(title, [s.name for s in series])
    category_axis = {"type": "category", "data": list(categories), "axisLabel": {"interval": 0}}
    value_axis = {"type": "value", "minInterval": 1}
    if percent_axis:
        value_axis.update(max=100, axisLabel={"formatter": "{value}%"})
    if horizontal:
        category_axis["inverse"] = True  # first category on top, as in the table
        option["xAxis"], option["yAxis"] = value_axis, category_axis
    else:
        category_axis["axisLabel"]["rotate"] = 30 if len(categories) > 6 else 0
        option["xAxis"], option["yAxis"] = category_axis, value_axis
    option["series"] = [
        {"name": s.name, "type": "bar", "data": _points(s), **({"stack": "total"} if stacked else {}),
         **({"itemStyle": {"color": s.color}} if s.color else {}), "barMaxWidth": 36}
        for s in series
    ]
    return option


def line_chart(title: str, categories: Sequence[str], series: Sequence[Series]) -> dict:
    """A line per series over ordered categories (days, months)."""
    option = _base(title, [s.name for s in series])
    option["tooltip"] = {"trigger": "axis"}
    option["xAxis"] = {"type": "category", "data": list(categories), "boundaryGap": False}
    option["yAxis"] = {"type": "value", "minInterval": 1}
    option["series"] = [
        {"name": s.name, "type": "line", "data": _points(s), "smooth": False, "symbolSize": 6,
         **({"itemStyle": {"color": s.color}, "lineStyle": {"color": s.color}} if s.color else {})}
        for s in series
    ]
    return option


@dataclass(frozen=True)
class Slice:
    label: str
    value: object
    color: str | None = None
    url: str | None = None


def pie_chart(title: str, slices: Sequence[Slice]) -> dict:
    """Shares of a whole, one ``Slice`` each; empty slices are left out."""
    shown = [s for s in slices if s.value]
    option = _base(title, [s.label for s in shown])
    option["tooltip"] = {"trigger": "item", "formatter": "{b}：{c}（{d}%）"}
    option["series"] = [{
        "type": "pie", "radius": ["30%", "58%"], "center": ["50%", "55%"],
        "label": {"formatter": "{b}\n{c}"},
        "data": [{"name": s.label, "value": _number(s.value), **({"url": s.url} if s.url else {}),
                  **({"itemStyle": {"color": s.color}} if s.color else {})} for s in shown],
    }]
    return option
