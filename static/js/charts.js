// Draws every <canvas data-chart='{"type", "labels", "datasets", "max", "suffix", "integer",
// "stacked"}'>
// with the vendored Chart.js. The server writes the labels, already translated; the table next
// to each chart carries the same figures as text.
(function () {
  "use strict";

  // Blue and orange stay distinct for the common colour-vision deficiencies; a dashed line and
  // the legend tell the series apart without colour.
  const COLOURS = ["#1f5fbf", "#c2410c", "#15803d", "#6d28d9"];
  const DASHES = [[], [6, 4], [2, 3], [10, 3]];

  function numberFormat(locale, integer) {
    return new Intl.NumberFormat(locale, { maximumFractionDigits: integer ? 0 : 2 });
  }

  function draw(canvas) {
    let spec;
    try {
      spec = JSON.parse(canvas.dataset.chart);
    } catch (error) {
      console.warn("chart data unreadable on #" + canvas.id, error);
      return;
    }
    const locale = document.documentElement.lang || "en";
    const format = numberFormat(locale, spec.integer);
    const suffix = spec.suffix || "";
    const isLine = spec.type === "line";
    const datasets = spec.datasets.map(function (set, index) {
      const colour = COLOURS[index % COLOURS.length];
      return {
        label: set.label,
        data: set.data,
        borderColor: colour,
        backgroundColor: isLine ? colour : colour + "cc",
        borderDash: isLine ? DASHES[index % DASHES.length] : [],
        borderWidth: 2,
        pointRadius: isLine ? 4 : 0,
        pointStyle: ["circle", "rect", "triangle", "rectRot"][index % 4],
        spanGaps: false,
      };
    });
    const yScale = {
      beginAtZero: true,
      ticks: {
        precision: spec.integer ? 0 : undefined,
        callback: function (value) { return format.format(value) + suffix; },
      },
    };
    if (spec.max !== undefined) {
      yScale.max = spec.max;
    }
    const scales = { y: yScale };
    if (spec.stacked) {
      yScale.stacked = true;
      scales.x = { stacked: true };
    }
    new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        locale: locale,
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: scales,
        plugins: {
          legend: { labels: { usePointStyle: true } },
          tooltip: {
            callbacks: {
              label: function (context) {
                const value = context.parsed.y;
                const shown = value === null ? "—" : format.format(value) + suffix;
                return context.dataset.label + ": " + shown;
              },
            },
          },
        },
      },
    });
    canvas.dataset.drawn = "true";
  }

  function drawAll() {
    if (typeof window.Chart === "undefined") {
      return;  // the library did not load: the tables still say everything
    }
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
