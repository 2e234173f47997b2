// Draws every <div class="union-chart" data-option='…'> with the vendored ECharts; a data point
// carrying a "url" opens that list when clicked (drill-down). Options come from views/charts.py.
(function () {
  function draw(el) {
    var chart = echarts.init(el, null, { renderer: "canvas", locale: "ZH" });
    chart.setOption(JSON.parse(el.getAttribute("data-option")));
    chart.on("click", function (p) {
      if (p.data && p.data.url) { window.location.href = p.data.url; }
    });
    el.setAttribute("data-drawn", "1");
    return chart;
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (typeof echarts === "undefined") { return; }
    var charts = Array.prototype.map.call(document.querySelectorAll(".union-chart"), draw);
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  });
})();
