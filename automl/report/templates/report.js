// Draws every figure from the one JSON block; the body's data-plots-ready counts those drawn (tests read it).
(function () {
  "use strict";
  var figures = JSON.parse(document.getElementById("automl-figures").textContent);
  var targets = document.querySelectorAll("[data-figure]");
  var pending = [];
  targets.forEach(function (div) {
    var figure = figures[div.getAttribute("data-figure")];
    if (!figure) { return; }
    pending.push(Plotly.newPlot(div, figure.data, figure.layout, { responsive: true, displaylogo: false }));
  });
  Promise.all(pending).then(function () {
    document.body.setAttribute("data-plots-ready", String(pending.length));
  });
})();
