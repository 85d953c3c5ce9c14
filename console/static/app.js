// simguard console: live overview charts (SVG, drawn here) and small
// conveniences. No framework, no build step, nothing loaded from elsewhere.
// Every value from the server goes into the page through textContent or
// attributes, never as HTML.
(function () {
  'use strict';

  var SVG = 'http://www.w3.org/2000/svg';

  function svg(name, attrs, parent) {
    var e = document.createElementNS(SVG, name);
    for (var k in attrs) {
      if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
    }
    if (parent) parent.appendChild(e);
    return e;
  }

  function html(name, attrs, text, parent) {
    var e = document.createElement(name);
    for (var k in attrs) {
      if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
    }
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (parent) parent.appendChild(e);
    return e;
  }

  function clear(e) {
    while (e.firstChild) e.removeChild(e.firstChild);
  }

  function byId(id) { return document.getElementById(id); }

  function setText(id, v) {
    var e = byId(id);
    if (e) e.textContent = String(v);
  }

  // Colours: allowed is green; denial reasons take the palette in the
  // order the server sends them (most frequent first), so that the reasons
  // on one chart never share a colour.
  function seriesClasses(series) {
    var n = 0;
    return series.map(function (s) {
      return s.decision === 'allow' ? 'c-allow' : 'c-' + (n++ % 8);
    });
  }

  // niceMax rounds a maximum up to 1, 2 or 5 times a power of ten.
  function niceMax(v) {
    if (v <= 0) return 1;
    var p = Math.pow(10, Math.floor(Math.log(v) / Math.LN10));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i++) {
      if (steps[i] * p >= v) return steps[i] * p;
    }
    return 10 * p;
  }

  // Horizontal bars: one row per item, the label left of the bar.
  function drawBars(container, items, classOf) {
    clear(container);
    // One SVG unit is one CSS pixel, so text keeps its size at any width.
    var W = Math.max(240, container.clientWidth || 420), row = 24, labelW = 100, countW = 50;
    var max = 0;
    items.forEach(function (it) { max = Math.max(max, it.count); });
    var root = svg('svg', { viewBox: '0 0 ' + W + ' ' + (items.length * row + 4), 'aria-hidden': 'true', focusable: 'false' }, container);
    var barW = W - labelW - countW;
    items.forEach(function (it, i) {
      var y = i * row + 2;
      svg('text', { x: 0, y: y + 15 }, root).textContent = it.label;
      var w = max > 0 ? Math.max(it.count > 0 ? 2 : 0, Math.round(barW * it.count / max)) : 0;
      var r = svg('rect', { x: labelW, y: y + 3, width: w, height: row - 8, 'class': classOf(it) }, root);
      svg('title', {}, r).textContent = it.label + ': ' + it.count;
      svg('text', { x: labelW + w + 6, y: y + 15 }, root).textContent = String(it.count);
    });
  }

  // Stacked columns: one column per minute, one colour per reason.
  function drawDecisions(container, legend, d) {
    clear(container);
    var W = Math.max(280, container.clientWidth || 720), H = 220, left = 40, bottom = 22, top = 8;
    var n = d.labels.length;
    var totals = [];
    for (var i = 0; i < n; i++) {
      var t = 0;
      d.series.forEach(function (s) { t += s.counts[i]; });
      totals.push(t);
    }
    var max = niceMax(Math.max.apply(null, totals.concat([0])));
    var classes = seriesClasses(d.series);
    var root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, 'aria-hidden': 'true', focusable: 'false' }, container);
    var plotH = H - bottom - top, colW = (W - left) / n;
    (max % 2 === 0 ? [0, 0.5, 1] : [0, 1]).forEach(function (f) {
      var y = top + plotH - f * plotH;
      svg('line', { x1: left, x2: W, y1: y, y2: y, 'class': 'grid-line' }, root);
      svg('text', { x: left - 6, y: y + 4, 'text-anchor': 'end' }, root).textContent = String(Math.round(max * f));
    });
    for (var b = 0; b < n; b++) {
      var y0 = top + plotH;
      d.series.forEach(function (s, i) {
        var v = s.counts[b];
        if (!v) return;
        var h = Math.max(1, plotH * v / max);
        y0 -= h;
        var r = svg('rect', { x: left + b * colW + 1, y: y0, width: Math.max(1, colW - 2), height: h, 'class': classes[i] }, root);
        svg('title', {}, r).textContent = d.labels[b] + ' UTC · ' + s.decision + ' ' + s.reason + ': ' + v;
      });
      var every = W < 500 ? 20 : 10;
      if (b % every === 0) {
        svg('text', { x: left + b * colW + colW / 2, y: H - 6, 'text-anchor': 'middle' }, root).textContent = d.labels[b];
      }
    }
    clear(legend);
    if (d.series.length === 0) {
      html('li', { 'class': 'muted' }, 'No decisions in the last hour.', legend);
    }
    d.series.forEach(function (s, i) {
      var li = html('li', {}, null, legend);
      html('span', { 'class': 'swatch ' + classes[i], 'aria-hidden': 'true' }, null, li);
      li.appendChild(document.createTextNode(s.decision + ' · ' + s.reason + ' (' + s.total + ')'));
    });
  }

  function fillTable(id, rows, empty) {
    var t = byId(id);
    if (!t) return;
    var body = t.tBodies[0];
    clear(body);
    if (rows.length === 0 && empty) {
      var tr = html('tr', {}, null, body);
      html('td', { colspan: String(t.tHead.rows[0].cells.length), 'class': 'muted' }, empty, tr);
    }
    rows.forEach(function (cells) {
      var tr = html('tr', {}, null, body);
      cells.forEach(function (c) {
        var td = html('td', c.num ? { 'class': 'num' } : {}, null, tr);
        if (c.href) html('a', { href: c.href }, c.text, td);
        else td.textContent = String(c.text);
      });
    });
  }

  // The same markup as the "bars" template, so updates look the same.
  function fillBarList(id, items) {
    var box = byId(id);
    if (!box) return;
    clear(box);
    var ol = html('ol', { 'class': 'bars' }, null, box);
    var max = 0;
    items.forEach(function (it) { max = Math.max(max, it.count); });
    if (items.length === 0) html('li', { 'class': 'muted' }, 'None in the last hour.', ol);
    items.forEach(function (it) {
      var li = html('li', {}, null, ol);
      var label = html('span', { 'class': 'label' }, null, li);
      html(it.href ? 'a' : 'span', it.href ? { 'class': 'mono', href: it.href } : { 'class': 'mono' }, it.label, label);
      var s = svg('svg', { 'aria-hidden': 'true', focusable: 'false', viewBox: '0 0 100 10', preserveAspectRatio: 'none' }, li);
      svg('rect', { x: 0, y: 0, height: 10, width: max > 0 ? Math.min(100, Math.floor(it.count * 100 / max)) : 0 }, s);
      html('span', { 'class': 'count' }, it.count, li);
    });
  }

  function utc(iso) {
    return iso.replace('T', ' ').replace(/\.\d+/, '').replace('Z', ' UTC');
  }

  function renderOverview(d) {
    setText('sims-total', d.sims_total);
    var states = byId('chart-states');
    if (states) {
      drawBars(states, d.sims_by_state.map(function (s) { return { label: s.state, count: s.count }; }),
        function (it) { return 'st-' + it.label; });
    }
    fillTable('table-states', d.sims_by_state.map(function (s) {
      return [{ text: s.state, href: '/console/sims?state=' + encodeURIComponent(s.state) }, { text: s.count, num: true }];
    }));
    setText('allowed-total', d.decisions.allowed);
    setText('denied-total', d.decisions.denied);
    var chart = byId('chart-decisions');
    if (chart) drawDecisions(chart, byId('legend-decisions'), d.decisions);
    fillTable('table-decisions', d.decisions.series.map(function (s) {
      return [{ text: s.decision }, { text: s.reason }, { text: s.total, num: true }];
    }), 'No decisions in the last hour.');
    fillBarList('top-sims', d.top_sims);
    fillBarList('top-destinations', d.top_destinations);
    if (d.alerts) {
      setText('alerts-total', d.alerts.total);
      var ac = byId('chart-alerts');
      if (ac) {
        drawBars(ac, d.alerts.by_severity.map(function (s) { return { label: s.state, count: s.count }; }),
          function (it) { return 'sev-' + it.label; });
      }
      fillTable('table-alerts', d.alerts.by_severity.map(function (s) {
        return [{ text: s.state }, { text: s.count, num: true }];
      }));
    }
    if (d.sessions) {
      setText('sessions-live', (d.sessions.at_least ? '≥ ' : '') + d.sessions.live);
      fillTable('table-sessions', d.sessions.recent.map(function (s) {
        var sim = { text: s.imsi || '' };
        if (s.iccid) sim.href = '/console/sims/' + encodeURIComponent(s.iccid);
        return [sim, { text: s.ip || '' }, { text: s.apn || '' }, { text: utc(s.start) }];
      }), 'No live sessions.');
    }
    if (d.exposure) {
      setText('exposure-total', (d.exposure.at_least ? '≥ ' : '') + d.exposure.total);
      var ec = byId('chart-exposure');
      if (ec) {
        drawBars(ec, d.exposure.by_severity.map(function (s) { return { label: s.state, count: s.count }; }),
          function (it) { return 'sev-' + it.label; });
      }
      fillTable('table-exposure', d.exposure.by_severity.map(function (s) {
        return [{ text: s.state }, { text: s.count, num: true }];
      }));
    }
    setText('updated', utc(d.generated_at));
  }

  function startOverview() {
    var data = byId('overview-data');
    var status = byId('live-status');
    if (!data || !status) return;
    var last = JSON.parse(data.textContent);
    renderOverview(last);
    var resizing = 0;
    window.addEventListener('resize', function () {
      window.clearTimeout(resizing);
      resizing = window.setTimeout(function () { renderOverview(last); }, 150);
    });
    var every = (parseInt(status.getAttribute('data-refresh'), 10) || 5) * 1000;
    var failures = 0;
    function schedule() { window.setTimeout(poll, every); }
    function poll() {
      if (document.hidden) { schedule(); return; }
      fetch('/console/api/overview', { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } })
        .then(function (r) {
          if (r.status === 401) {
            window.location.assign('/console/login?next=%2Fconsole%2F');
            return null;
          }
          if (!r.ok) throw new Error('the server answered ' + r.status);
          return r.json();
        })
        .then(function (d) {
          if (!d) return;
          last = d;
          renderOverview(d);
          if (failures > 0) {
            failures = 0;
            status.classList.remove('paused');
            status.firstChild.textContent = 'Live: updating again. Last update ';
          }
          schedule();
        })
        .catch(function (err) {
          failures++;
          status.classList.add('paused');
          status.firstChild.textContent = 'Live updates paused (' + err.message + '); retrying. Last update ';
          schedule();
        });
    }
    schedule();
  }

  // After a policy error, put the cursor on the line the error names.
  function selectErrorLine() {
    var ta = document.querySelector('textarea[data-error-line]');
    if (!ta) return;
    var line = parseInt(ta.getAttribute('data-error-line'), 10);
    var lines = ta.value.split('\n');
    if (!(line >= 1 && line <= lines.length)) return;
    var start = 0;
    for (var i = 0; i < line - 1; i++) start += lines[i].length + 1;
    ta.focus();
    ta.setSelectionRange(start, start + lines[line - 1].length);
    var lh = parseFloat(window.getComputedStyle(ta).lineHeight) || 18;
    ta.scrollTop = Math.max(0, (line - 4) * lh);
  }

  // A queued or running scan's page follows its status, and reloads
  // once it has finished to show the findings.
  function followScan() {
    var live = byId('scan-live');
    if (!live) return;
    var id = live.getAttribute('data-scan');
    var every = (parseInt(live.getAttribute('data-refresh'), 10) || 5) * 1000;
    function schedule() { window.setTimeout(poll, every); }
    function poll() {
      if (document.hidden) { schedule(); return; }
      fetch('/console/api/scans/' + encodeURIComponent(id), { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } })
        .then(function (r) {
          if (r.status === 401) {
            window.location.assign('/console/login?next=' + encodeURIComponent(window.location.pathname));
            return null;
          }
          if (!r.ok) throw new Error('the server answered ' + r.status);
          return r.json();
        })
        .then(function (d) {
          if (!d) return;
          if (d.status !== 'queued' && d.status !== 'running') {
            window.location.reload();
            return;
          }
          var badge = byId('scan-status');
          if (badge && badge.textContent !== d.status) {
            badge.textContent = d.status;
            badge.className = 'badge scan-' + d.status;
            live.textContent = 'This scan is ' + d.status + '; the page shows its findings when it finishes.';
          }
          schedule();
        })
        .catch(function (err) {
          live.textContent = 'Following the scan paused (' + err.message + '); retrying.';
          schedule();
        });
    }
    schedule();
  }

  function init() {
    startOverview();
    followScan();
    selectErrorLine();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
}());
