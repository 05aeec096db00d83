// Draws the dashboard's charts with Chart.js (served from /static/vendor, installed by `make install`).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("chart-data").textContent);
  if (typeof window.Chart === "undefined") {
    var boxes = document.querySelectorAll(".chart-box canvas");
    for (var i = 0; i < boxes.length; i++) {
      var note = document.createElement("p");
      note.className = "error-box";
      note.textContent = "图表库未安装（请运行 make install），下面的表格和 Excel 下载照常可用。";
      boxes[i].replaceWith(note);
    }
    return;
  }
  Chart.defaults.font.size = 16;
  Chart.defaults.color = "#1a1a1a";
  var palette = ["#0b4f8a", "#b00020", "#0a6b2d", "#8a5300", "#5b2a86", "#00607a", "#7a4a00", "#3d3d3d", "#a0006e", "#2f6b00"];
  var pct = function (v) { return v === null || v === undefined || v === "" ? null : Math.round(v * 1000) / 10; };
  var percentAxis = { min: 0, max: 100, ticks: { callback: function (v) { return v + "%"; } } };

  function rateChart(id, table, firstRateColumn, labelColumn) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var headers = table.headers, rows = table.rows;
    var datasets = [];
    for (var c = firstRateColumn; c < firstRateColumn + 4; c++) {
      datasets.push({ label: headers[c], backgroundColor: palette[c - firstRateColumn],
                      data: rows.map(function (r) { return pct(r[c]); }) });
    }
    new Chart(el, { type: "bar", data: { labels: rows.map(function (r) { return r[labelColumn]; }), datasets: datasets },
                    options: { scales: { y: percentAxis }, plugins: { legend: { position: "bottom" } } } });
  }

  var rates = data.rates;
  new Chart(document.getElementById("chart-rates"), {
    type: "bar",
    data: { labels: rates.rows.slice(0, 5).map(function (r) { return r[0]; }),
            datasets: [{ label: "比例", backgroundColor: palette.slice(0, 5), data: rates.rows.slice(0, 5).map(function (r) { return pct(r[1]); }) }] },
    options: { scales: { y: percentAxis }, plugins: { legend: { display: false } } }
  });
  rateChart("chart-communities", data.communities, 2, 0);
  rateChart("chart-grids", data.grids, 2, 0);
  var staff = data.staff;
  if (document.getElementById("chart-staff")) {
    new Chart(document.getElementById("chart-staff"), {
      type: "bar",
      data: { labels: staff.rows.map(function (r) { return r[0]; }),
              datasets: [{ label: "一小时回复率", backgroundColor: palette[0], data: staff.rows.map(function (r) { return pct(r[4]); }) },
                         { label: "首次回复次数", type: "line", yAxisID: "n", borderColor: palette[1], data: staff.rows.map(function (r) { return r[2]; }) }] },
      options: { scales: { y: percentAxis, n: { position: "right", beginAtZero: true, ticks: { precision: 0 } } },
                 plugins: { legend: { position: "bottom" } } }
    });
  }
  var trend = data.trend;
  new Chart(document.getElementById("chart-trend"), {
    type: "line",
    data: { labels: trend.rows.map(function (r) { return r[0]; }),
            datasets: trend.headers.slice(1).map(function (h, i) {
              return { label: h, borderColor: palette[i % palette.length], backgroundColor: palette[i % palette.length],
                       data: trend.rows.map(function (r) { return r[i + 1]; }), tension: 0.2 };
            }) },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }, plugins: { legend: { position: "bottom" } } }
  });
  var hot = data.hotspots;
  if (document.getElementById("chart-hotspots")) {
    new Chart(document.getElementById("chart-hotspots"), {
      type: "bar",
      data: { labels: hot.rows.map(function (r) { return r[0] + " · " + r[1]; }),
              datasets: [{ label: "次数", backgroundColor: palette[1], data: hot.rows.map(function (r) { return r[2]; }) }] },
      options: { indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } }, plugins: { legend: { display: false } } }
    });
  }
})();
