// The overview's charts: each element with data-chart names the JSON script holding its figures (no inline code,
// so a strict Content-Security-Policy holds). The same figures are in the table beside each chart.
(function () {
  "use strict";
  function draw(element) {
    var source = document.getElementById(element.getAttribute("data-chart"));
    if (!source || typeof echarts === "undefined") { return; }
    var figures = JSON.parse(source.textContent);
    var chart = echarts.init(element, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 8, bottom: 8, top: 32, containLabel: true },
      xAxis: { type: "category", data: figures.categories, axisLabel: { interval: 0, rotate: figures.categories.length > 5 ? 30 : 0 } },
      yAxis: { type: "value", name: figures.unit },
      series: figures.series.map(function (series) {
        return { name: series.name, type: "bar", data: series.data, stack: figures.kind === "stacked" ? "all" : undefined };
      })
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chart]").forEach(draw);
  });
})();
