// Draw every chart a page embeds as JSON (<script type="application/json" class="chart-data">).
// No inline scripts or handlers: the data travels as JSON and this static file draws it, so pages
// work from file://, under any sub-path, and under a strict Content-Security-Policy.
(function () {
  "use strict";

  function themed(layout, div) {
    // Follow the page's colours (light or dark scheme) instead of Plotly's white defaults.
    var style = window.getComputedStyle(div);
    var grid = style.getPropertyValue("--chart-grid").trim() || "#dddddd";
    var out = Object.assign({}, layout, {
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      font: Object.assign({ color: style.color, family: style.fontFamily, size: 12 }, layout.font || {}),
    });
    ["xaxis", "yaxis"].forEach(function (axis) {
      out[axis] = Object.assign({ gridcolor: grid, zerolinecolor: grid, linecolor: grid }, layout[axis] || {});
    });
    if (out.legend) {
      out.legend = Object.assign({ bgcolor: "rgba(0,0,0,0)" }, out.legend);
    }
    return out;
  }

  function draw() {
    var scripts = document.querySelectorAll('script[type="application/json"].chart-data');
    Array.prototype.forEach.call(scripts, function (script) {
      var div = document.getElementById(script.getAttribute("data-target"));
      if (!div) {
        return;
      }
      if (typeof window.Plotly === "undefined") {
        div.textContent = div.getAttribute("data-unavailable");
        div.classList.add("chart-missing");
        return;
      }
      var figure = JSON.parse(script.textContent);
      // No mode bar: its buttons speak English only. Drag to zoom, double-click to reset still work.
      window.Plotly.newPlot(div, figure.data, themed(figure.layout, div), {
        responsive: true,
        displayModeBar: false,
      });
    });
  }

  // Folded sections (every finding of a section, per-output parity, the config) belong on paper.
  var folded = [];
  window.addEventListener("beforeprint", function () {
    folded = Array.prototype.filter.call(document.querySelectorAll("details"), function (d) {
      return !d.open;
    });
    folded.forEach(function (d) {
      d.open = true;
    });
  });
  window.addEventListener("afterprint", function () {
    folded.forEach(function (d) {
      d.open = false;
    });
    folded = [];
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
