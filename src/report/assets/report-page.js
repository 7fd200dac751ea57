// The HTML report's script: draws the charts with the inlined uPlot from the data fleetbench
// embedded in the page. Plain browser JavaScript; it fetches nothing. Each chart element gets
// data-rendered="true" once drawn (the browser test checks for it).
(function () {
  'use strict';

  const data = JSON.parse(document.getElementById('fleetbench-data').textContent);
  const PALETTE = [
    '#5b8def',
    '#47b881',
    '#f0a030',
    '#9b59b6',
    '#e05260',
    '#1abc9c',
    '#7f8c8d',
    '#d35400',
    '#2c3e50',
    '#c0392b',
  ];
  // One colour per histogram, the connect phases matching the breakdown's bars.
  const METRIC_COLORS = {
    connect: '#2c3e50',
    tcp: '#6c8ebf',
    tls: '#f0a030',
    websocket: '#9b59b6',
    connack: '#47b881',
    suback: '#9b59b6',
    puback: '#1abc9c',
    pubcomp: '#16a085',
    roundtrip: '#e05260',
    reconnect: '#7f8c8d',
    downtime: '#d35400',
    commandRoundtrip: '#8e44ad',
    fanIn: '#27ae60',
  };
  const PHASE_FILL = ['rgba(91,141,239,0.07)', 'rgba(240,160,48,0.09)'];

  function chartWidth(el) {
    return Math.max(320, Math.floor(el.getBoundingClientRect().width || 900));
  }

  function line(label, color, extra) {
    return Object.assign(
      { label: label, stroke: color, width: 2, points: { show: false } },
      extra || {},
    );
  }

  /** Shades each phase and writes its name at the top of the plot. */
  function phaseBands(phases) {
    return function (u) {
      const ctx = u.ctx;
      const top = u.bbox.top;
      const height = u.bbox.height;
      ctx.save();
      ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
      ctx.textBaseline = 'top';
      phases.forEach(function (p, i) {
        const x0 = u.valToPos(p.startSec, 'x', true);
        const x1 = u.valToPos(p.endSec, 'x', true);
        ctx.fillStyle = PHASE_FILL[i % 2];
        ctx.fillRect(x0, top, Math.max(1, x1 - x0), height);
        ctx.fillStyle = '#5d6875';
        ctx.fillText(p.name, x0 + 4 * devicePixelRatio, top + 4 * devicePixelRatio);
        ctx.strokeStyle = 'rgba(93,104,117,0.5)';
        ctx.beginPath();
        ctx.moveTo(x0, top);
        ctx.lineTo(x0, top + height);
        ctx.stroke();
      });
      ctx.restore();
    };
  }

  function note(el, text) {
    const p = document.createElement('p');
    p.className = 'note';
    p.textContent = text;
    el.appendChild(p);
  }

  function drawTimeline(el) {
    const s = data.series;
    if (s === null) {
      note(el, 'This report has no time series.');
      el.dataset.rendered = 'true';
      return;
    }
    const bands = phaseBands(data.phases);
    // From the run's start, so the first phase's band and name are not cut off.
    const timeRange = (u, min, max) => [0, max];
    const fromZero = (u, min, max) => [0, max > 0 ? max * 1.05 : 1];
    // The run starts with nothing connected: draw from there, not from the first interval.
    const at0 = (col, v) => [v].concat(col);
    const rates = new uPlot(
      {
        title: 'Connected devices and rates per second',
        width: chartWidth(el),
        height: 300,
        scales: {
          x: { time: false, range: timeRange },
          devices: { range: fromZero },
          rate: { range: fromZero },
        },
        axes: [
          { label: 'seconds since start' },
          { scale: 'devices', label: 'devices connected' },
          { scale: 'rate', side: 1, label: 'per second', grid: { show: false } },
        ],
        series: [
          { label: 's' },
          line('connected', PALETTE[0], {
            scale: 'devices',
            width: 3,
            fill: 'rgba(91,141,239,0.10)',
          }),
          line('connects/s', PALETTE[1], { scale: 'rate' }),
          line('messages out/s', PALETTE[2], { scale: 'rate' }),
          line('messages in/s', PALETTE[3], { scale: 'rate', dash: [6, 4] }),
          line('errors/s', PALETTE[4], { scale: 'rate' }),
        ],
        hooks: { drawClear: [bands] },
      },
      [
        at0(s.t, 0),
        at0(s.connected, 0),
        at0(s.connectsPerSec, null),
        at0(s.publishedPerSec, null),
        at0(s.receivedPerSec, null),
        at0(s.errorsPerSec, null),
      ],
      el,
    );
    const latency = new uPlot(
      {
        title: 'Latency per second (ms)',
        width: chartWidth(el),
        height: 240,
        scales: { x: { time: false, range: timeRange }, y: { range: fromZero } },
        axes: [{ label: 'seconds since start' }, { label: 'ms' }],
        series: [
          { label: 's' },
          line('round trip p50', PALETTE[1]),
          line('round trip p99', PALETTE[2]),
          line('round trip max', PALETTE[4], { width: 1, dash: [4, 4] }),
          line('connect p99', PALETTE[0]),
        ],
        hooks: { drawClear: [bands] },
      },
      [
        at0(s.t, 0),
        at0(s.roundtripP50Ms, null),
        at0(s.roundtripP99Ms, null),
        at0(s.roundtripMaxMs, null),
        at0(s.connectP99Ms, null),
      ],
      el,
    );
    el.dataset.rendered = rates && latency ? 'true' : 'false';
  }

  /** `1 / (1 - p)` back to a percentile label: 10 → 90%, 1000 → 99.9%. */
  function percentileLabel(x) {
    const p = 100 * (1 - 1 / x);
    if (p <= 0) return '0%';
    const digits = Math.max(0, Math.round(Math.log10(x)) - 2);
    return `${p.toFixed(digits)}%`;
  }

  function drawDistribution(el) {
    const dists = data.distributions;
    if (dists.length === 0) {
      note(el, 'Nothing was measured.');
      el.dataset.rendered = 'true';
      return;
    }
    const joined = uPlot.join(dists.map((d) => [d.x, d.ms]));
    const series = [
      { label: 'percentile', value: (u, v) => (v == null ? '' : percentileLabel(v)) },
    ];
    dists.forEach(function (d, i) {
      series.push(
        line(d.name, METRIC_COLORS[d.name] || PALETTE[i % PALETTE.length], {
          spanGaps: true,
          value: (u, v) => (v == null ? '' : `${v} ms`),
        }),
      );
    });
    new uPlot(
      {
        width: chartWidth(el),
        height: 380,
        scales: {
          x: { time: false, distr: 3, range: [1, 100000] },
          y: { distr: 3 },
        },
        axes: [
          {
            label: 'percentile',
            splits: () => [1, 10, 100, 1000, 10000, 100000],
            values: (u, splits) => splits.map(percentileLabel),
          },
          { label: 'ms (log)', size: 70 },
        ],
        series: series,
      },
      joined,
      el,
    );
    el.dataset.rendered = 'true';
  }

  drawTimeline(document.getElementById('timeline'));
  drawDistribution(document.getElementById('distribution'));
})();
