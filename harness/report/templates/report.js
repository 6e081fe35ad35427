(function () {
  "use strict";
  var plots = Array.prototype.slice.call(document.querySelectorAll("[data-figure]"));
  if (typeof window.Plotly === "undefined") {
    plots.forEach(function (el) {
      el.textContent = "plotly.min.js was not found next to this report, so this figure cannot be drawn.";
      el.className += " missing";
    });
    return;
  }
  plots.forEach(function (el) {
    var spec = JSON.parse(document.getElementById(el.getAttribute("data-figure")).textContent);
    window.Plotly.newPlot(el, spec.data, spec.layout, { responsive: true, displaylogo: false });
  });
  var select = document.getElementById("scenario-filter");
  if (select) {
    select.addEventListener("change", function () {
      var wanted = select.value;
      document.querySelectorAll("[data-scenario]").forEach(function (el) {
        el.hidden = wanted !== "" && el.getAttribute("data-scenario") !== wanted;
      });
      plots.forEach(function (el) {
        if (el.offsetParent !== null) { window.Plotly.Plots.resize(el); }
      });
    });
  }
})();
