/* The statistics dashboard: each chart's figures come as JSON from the server (the same figures as its CSV
   and the table under it) and are drawn with Chart.js, served by the registry itself. */
(function () {
  "use strict";

  var COLOURS = ["#1f5f99", "#c2571a", "#3b8a3e", "#7a4fa3", "#a33b3b", "#59636e"];

  function fillTable(table, data) {
    var names = Object.keys(data.series);
    var head = table.createTHead().insertRow();
    [""].concat(names).forEach(function (name, index) {
      var cell = document.createElement("th");
      cell.scope = "col";
      cell.textContent = index === 0 ? "" : name;
      head.appendChild(cell);
    });
    var body = table.createTBody();
    data.labels.forEach(function (label, row) {
      var line = body.insertRow();
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = label;
      line.appendChild(th);
      names.forEach(function (name) {
        var value = data.series[name][row];
        var cell = line.insertCell();
        cell.className = "num";
        cell.textContent = value === null ? "x" : value.toLocaleString();
      });
    });
  }

  function config(data) {
    var names = Object.keys(data.series);
    var pyramid = data.kind === "pyramid";
    var datasets = names.map(function (name, index) {
      var values = data.series[name];
      if (pyramid && index === 0) {  // the first sex to the left of the axis
        values = values.map(function (v) { return v === null ? null : -v; });
      }
      return {label: name, data: values, backgroundColor: COLOURS[index % COLOURS.length],
              borderColor: COLOURS[index % COLOURS.length], spanGaps: false, tension: 0};
    });
    var horizontal = pyramid || data.kind === "bar";
    return {
      type: data.kind === "line" ? "line" : "bar",
      data: {labels: data.labels, datasets: datasets},
      options: {
        animation: false, responsive: true, maintainAspectRatio: false, indexAxis: horizontal ? "y" : "x",
        scales: pyramid ? {x: {stacked: true, ticks: {callback: function (v) { return Math.abs(v); }}},
                           y: {stacked: true, reverse: true}}
                        : horizontal ? {x: {beginAtZero: true}} : {y: {beginAtZero: true}},
        plugins: {
          legend: {display: names.length > 1},
          tooltip: {callbacks: {label: function (item) {
            return item.dataset.label + ": " + Math.abs(item.raw).toLocaleString() + " " + data.unit;
          }}}
        }
      }
    };
  }

  function draw(section) {
    var status = section.querySelector(".chart-status");
    fetch(section.dataset.chart, {credentials: "same-origin"})
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        fillTable(section.querySelector(".chart-data table"), data);
        if (!data.labels.length) {
          status.textContent = "Nothing to show for the last twelve months.";
          return;
        }
        status.textContent = data.note || "";
        if (window.Chart) {
          new window.Chart(section.querySelector("canvas"), config(data));
        }
      })
      .catch(function (error) { status.textContent = "The figures could not be loaded (" + error.message + ")."; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chart]").forEach(draw);
  });
})();
