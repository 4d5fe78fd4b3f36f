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
      font: Object.assign({ color: style.color, family: style.fontFamily }, layout.font || {}),
    });
    ["xaxis", "yaxis"].forEach(function (axis) {
      out[axis] = Object.assign({ gridcolor: grid, zerolinecolor: grid }, layout[axis] || {});
    });
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
      window.Plotly.newPlot(div, figure.data, themed(figure.layout, div), {
        responsive: true,
        displaylogo: false,
        staticPlot: false,
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
