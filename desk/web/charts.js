// Charts of the wallboard and the reports, drawn with Chart.js (chartjs/chart.umd.min.js)
// from a small spec: {type: 'bar'|'doughnut', labels, series: [{label, role, data}],
// horizontal, stacked}. Colours come from the page's CSS custom properties, so a change of
// theme redraws the charts in its colours.
'use strict';

const LXCharts = (() => {
  const charts = new Map(); // canvas -> {chart, spec, opts}
  const css = (name, fallback) => getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
  function colours() {
    return {
      fg: css('--chart-fg', '#1d2733'), grid: css('--chart-grid', '#d5dde6'), bg: css('--chart-bg', '#ffffff'),
      answered: css('--chart-answered', '#2e7d32'), abandoned: css('--chart-abandoned', '#d93025'),
      offered: css('--chart-offered', '#1f6feb'), current: css('--chart-current', '#1f6feb'),
      previous: css('--chart-previous', '#9aa5b1'),
      survey: [css('--chart-satisfied', '#2e7d32'), css('--chart-basic', '#8bc34a'),
        css('--chart-dissatisfied', '#d93025'), css('--chart-no-answer', '#9aa5b1')],
    };
  }
  function config(spec, c, opts) {
    const size = opts.fontSize || 12;
    const doughnut = spec.type === 'doughnut';
    const datasets = spec.series.map((s) => ({
      label: s.label, data: s.data,
      backgroundColor: doughnut ? c.survey : (c[s.role] || c.offered),
      borderColor: doughnut ? c.bg : undefined, borderWidth: doughnut ? 2 : 0,
    }));
    const axis = (stacked) => ({ stacked, beginAtZero: true, ticks: { color: c.fg, font: { size }, precision: 0 }, grid: { color: c.grid } });
    return {
      type: spec.type,
      data: { labels: spec.labels, datasets },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        indexAxis: spec.horizontal ? 'y' : 'x',
        devicePixelRatio: Math.max(window.devicePixelRatio || 1, opts.dpr || 1),
        plugins: { legend: { display: doughnut || spec.series.length > 1, labels: { color: c.fg, font: { size } } } },
        scales: doughnut ? {} : { x: axis(!!spec.stacked), y: axis(!!spec.stacked) },
      },
    };
  }
  function draw(canvas, spec, opts = {}) {
    // Chinese labels need the page's CJK fonts, not Chart.js's default Helvetica stack
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    const old = charts.get(canvas);
    if (old) old.chart.destroy();
    const chart = new Chart(canvas, config(spec, colours(), opts));
    charts.set(canvas, { chart, spec, opts });
    return chart;
  }
  // update puts new figures into a chart without drawing it anew (the wallboard's refresh)
  function update(canvas, spec, opts) {
    const cur = charts.get(canvas);
    if (!cur || cur.spec.type !== spec.type || cur.spec.series.length !== spec.series.length) return draw(canvas, spec, opts);
    cur.chart.data.labels = spec.labels;
    spec.series.forEach((s, i) => Object.assign(cur.chart.data.datasets[i], { label: s.label, data: s.data }));
    cur.spec = spec;
    cur.chart.update('none');
    return cur.chart;
  }
  function drawAll(root, opts) {
    root.querySelectorAll('canvas[data-chart]').forEach((cv) => draw(cv, JSON.parse(cv.dataset.chart), opts));
  }
  // restyle redraws every chart still on the page in the theme's colours
  function restyle() {
    for (const [cv, cur] of charts) {
      if (cv.isConnected) draw(cv, cur.spec, cur.opts);
      else { cur.chart.destroy(); charts.delete(cv); }
    }
  }
  // a report opened as a file, or printed to PDF, draws its own charts and says when done
  if (document.body && document.body.classList.contains('report-doc')) {
    drawAll(document, { dpr: 2 });
    document.body.dataset.ready = '1';
  }
  return { draw, update, drawAll, restyle };
})();
