"""views/charts.py: ECharts options as plain JSON-able dicts, numbers only, drill-down urls kept."""
import json
from decimal import Decimal

from views.charts import Series, Slice, bar_chart, line_chart, pie_chart


def test_bar_chart_carries_values_colours_and_links():
    option = bar_chart("认证", ["甲工会", "乙工会"], [Series("已认证", [3, Decimal("2.50")], "#91cc75", ["/a", None])],
                       horizontal=True, percent_axis=True)
    json.dumps(option)  # what the template embeds
    assert option["yAxis"]["data"] == ["甲工会", "乙工会"] and option["yAxis"]["inverse"] is True
    assert option["xAxis"]["max"] == 100
    assert option["series"][0]["data"] == [{"value": 3, "url": "/a"}, {"value": 2.5}]
    assert option["series"][0]["itemStyle"] == {"color": "#91cc75"}


def test_stacked_line_and_pie():
    assert all(s["stack"] == "total" for s in bar_chart("t", ["a"], [Series("x", [1]), Series("y", [2])],
                                                        stacked=True)["series"])
    line = line_chart("近7天", ["12-01", "12-02"], [Series("领取", [None, 4])])
    assert line["series"][0]["data"] == [{"value": 0}, {"value": 4}] and line["xAxis"]["boundaryGap"] is False
    pie = pie_chart("进度", [Slice("已认证", 5, "#91cc75", "/v"), Slice("驳回", 0)])
    assert pie["series"][0]["data"] == [{"name": "已认证", "value": 5, "url": "/v", "itemStyle": {"color": "#91cc75"}}]
    assert pie["legend"]["data"] == ["已认证"]
