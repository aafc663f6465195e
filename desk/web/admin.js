// Admin wallboard (大屏): every seat, the day's figures, calls per hour and issue types,
// hotspot alerts and ASR health, live. It fills a 1920×1080 screen without scrolling, in a
// light or a dark theme (?theme=dark for a kiosk; the choice is kept).
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const STATES = ['available', 'ringing', 'talking', 'wrapup', 'away', 'offline'];
  // the wallboard has no use for transcripts: it does not take every seat's partials
  const TYPES = ['seat.state', 'call.', 'dispatch.decided', 'hotspot.alert', 'asr.health', 'system.health'];
  let refresh = 0, depts = [], hours = [], issues = [], sock = null, mon = null, monSeat = '';

  function seatTile(seat) {
    let tile = document.querySelector('.seat[data-seat="' + CSS.escape(seat) + '"]');
    if (!tile) {
      tile = LX.el('div', { class: 'seat state-offline', 'data-seat': seat },
        LX.el('span', { class: 'name' }, seat.replace(/^seat-/, '')), LX.el('span', { class: 'st' }));
      const tiles = [...$('seats').children];
      const next = tiles.find((x) => x.dataset.seat > seat);
      $('seats').insertBefore(tile, next || null);
    }
    return tile;
  }
  function setSeat(seat, state) {
    const tile = seatTile(seat);
    tile.className = 'seat state-' + state;
    tile.dataset.state = state;
    tile.title = seat + ': ' + LX.t(state);
    tile.lastChild.textContent = LX.t(state);
    tile.classList.toggle('listenable', state === 'talking');
    if (monSeat === seat && state !== 'talking') stopMonitor();
  }

  // listen-in and whisper: click a seat on a call to listen; the bar switches to whisper
  async function monitor(seat, mode) {
    if (!mon) mon = LXPhone.monitor((m) => sock && sock.send(m), $('monitor-audio'), () => stopMonitor());
    $('monitor-error').textContent = '';
    monSeat = seat;
    $('monitor').hidden = false;
    $('monitor-seat').textContent = seat;
    $('monitor-mode').dataset.i18n = mode;
    $('monitor-mode').textContent = LX.t(mode);
    try {
      await mon.start(seat, mode);
    } catch (e) { $('monitor-error').textContent = LXPhone.micError(e); }
  }
  function stopMonitor() {
    if (mon) mon.stop();
    monSeat = '';
    $('monitor').hidden = true;
  }
  function legend() {
    $('legend').replaceChildren(...STATES.map((s) => LX.el('span', { class: 'seat state-' + s }, LX.t(s))));
    document.querySelectorAll('.seat[data-seat]').forEach((t) => { t.lastChild.textContent = LX.t(t.dataset.state || 'offline'); });
  }

  async function loadStats() {
    const r = await LX.api('/api/stats/today');
    const s = r.stats;
    $('offered').textContent = s.offered;
    $('answered').textContent = s.answered;
    $('abandoned').textContent = s.abandoned;
    $('avg-wait').textContent = LX.fmtDur(s.avg_wait_ms);
    $('avg-talk').textContent = LX.fmtDur(s.avg_talk_ms);
    const pct = (n) => (s.offered ? Math.round(100 * n / s.offered) + '%' : '–');
    $('answer-rate').textContent = pct(s.answered);
    $('service-level').textContent = pct(s.answered_in_20s);
    $('waiting').textContent = r.queue ? r.queue.waiting : 0;
    $('longest-wait').textContent = LX.fmtDur(r.queue ? r.queue.longest_wait_ms : 0);
    // 满意率 as the hotline reports it: satisfied or fairly satisfied, of the callers who
    // answered the survey
    const v = s.survey || {};
    const rated = (v.satisfied || 0) + (v.basic || 0) + (v.dissatisfied || 0);
    $('satisfaction').textContent = rated ? Math.round(100 * ((v.satisfied || 0) + (v.basic || 0)) / rated) + '% (' + rated + ')' : '–';
    depts = r.departments.sort((a, b) => b.calls - a.calls);
    hours = r.hours || [];
    issues = r.issues || [];
    renderDepts();
    renderCharts();
  }
  const named = (d) => (LX.lang() === 'en' && d.name_en ? d.name_en : d.name);
  // the charts are read from across the room: large ticks, the day's hours, the top issue types
  function renderCharts() {
    const big = { fontSize: Math.max(13, Math.round(innerHeight / 60)) };
    LXCharts.update($('chart-hours'), {
      type: 'bar', stacked: true, labels: hours.map((_, h) => String(h).padStart(2, '0')),
      series: [{ label: LX.t('answered'), role: 'answered', data: hours.map((h) => h.answered) },
        { label: LX.t('abandoned'), role: 'abandoned', data: hours.map((h) => h.abandoned) }],
    }, big);
    const top = issues.slice(0, 8);
    LXCharts.update($('chart-issues'), {
      type: 'bar', horizontal: true, labels: top.map(named),
      series: [{ label: LX.t('calls'), role: 'current', data: top.map((i) => i.calls) }],
    }, big);
  }
  // theme is light or dark: ?theme= in the address (a kiosk), else the last choice
  function applyTheme(theme) {
    document.body.classList.toggle('dark', theme === 'dark');
    localStorage.setItem('lx-theme', theme);
    $('theme').dataset.i18n = theme === 'dark' ? 'theme_light' : 'theme_dark';
    $('theme').textContent = LX.t($('theme').dataset.i18n);
    LXCharts.restyle();
  }
  function renderDepts() {
    $('depts').tBodies[0].replaceChildren(...depts.slice(0, 8).map((d) => LX.el('tr', { 'data-dept': d.id },
      LX.el('td', {}, named(d)), LX.el('td', { class: 'n' }, String(d.calls)))));
  }
  // call events change the figures: coalesce a burst into one fetch
  function statsSoon() {
    clearTimeout(refresh);
    refresh = setTimeout(() => loadStats().catch(() => {}), 300);
  }

  // alert keeps one row per hotspot alert: its issue, place, calls and state, with the
  // admin's acknowledge and close buttons; a closed or expired alert leaves the list.
  const alertRows = new Map(), alertEvents = new Map();
  // relabel draws every alert again in the language now chosen
  function relabelAlerts() {
    for (const ev of [...alertEvents.values()]) alert(ev);
  }
  function alert(ev) {
    const d = ev.data || {};
    const id = d.id || ('t' + ev.time);
    const old = alertRows.get(id);
    if (d.state === 'closed' || d.state === 'expired') {
      if (old) old.remove();
      alertRows.delete(id);
      alertEvents.delete(id);
      return;
    }
    alertEvents.set(id, ev);
    const when = new Date(ev.time).toLocaleTimeString();
    const what = d.issue && d.place ? d.issue + ' @ ' + d.place : (d.topic || d.department || '');
    const state = LX.t(d.state || 'raised') + (d.ack_by ? ' (' + LX.t('by') + ' ' + d.ack_by + ')' : '');
    const li = LX.el('li', { class: 'alert ' + (d.state || 'raised'), 'data-alert': id },
      LX.el('time', {}, when), LX.el('b', {}, what), ' ×' + (d.count || 0) + ' ', LX.el('span', { class: 'state' }, state));
    if (d.id) {
      for (const action of d.state === 'acknowledged' ? ['close'] : ['acknowledge', 'close']) {
        const b = LX.el('button', { type: 'button', class: 'alert-' + action }, LX.t(action));
        b.addEventListener('click', () => {
          b.disabled = true;
          LX.api('/api/hotspots/' + encodeURIComponent(d.id) + '/' + action, { json: {} }).catch(() => { b.disabled = false; });
        });
        li.append(b);
      }
    }
    if (old) old.replaceWith(li); else $('alerts').prepend(li);
    alertRows.set(id, li);
    while ($('alerts').children.length > 50) {
      const last = $('alerts').lastChild;
      alertRows.delete(last.dataset.alert);
      alertEvents.delete(last.dataset.alert);
      last.remove();
    }
  }

  // health lists the parts of the gateway that are failing (the store, recording).
  const failing = new Map();
  function health(d) {
    if (d.ok) failing.delete(d.component); else failing.set(d.component, d.detail || '');
    const parts = [...failing].map(([c, detail]) => c + ' ' + LX.t('failing') + (detail ? ': ' + detail : ''));
    $('health').textContent = parts.join('; ');
    $('health').hidden = parts.length === 0;
  }

  function onEvent(ev) {
    const d = ev.data || {};
    if (mon && ev.type.startsWith('monitor.')) mon.handle(ev);
    if (ev.type === 'error' && monSeat) $('monitor-error').textContent = d.error || '';
    switch (ev.type) {
      case 'seat.state': setSeat(ev.seat, d.state); break;
      case 'call.offered': case 'call.answered': case 'call.ended': case 'dispatch.decided': statsSoon(); break;
      case 'hotspot.alert': alert(ev); break;
      case 'system.health': health(d); break;
      case 'asr.health':
        $('asr-state').textContent = (d.engine ? d.engine + ' ' : '') + LX.t(d.ok ? 'ok' : 'down') +
          (d.lag_ms ? ' ' + d.lag_ms + 'ms' : '');
        $('asr').className = 'asr ' + (d.ok ? 'ok' : 'bad');
        break;
    }
  }

  // the longest wait grows between events: the figures refresh every 5 s as well
  setInterval(() => { if (!$('main').hidden) loadStats().catch(() => {}); }, 5000);

  async function start() {
    $('login').hidden = true;
    $('main').hidden = false;
    $('logout').hidden = false;
    const states = await LX.api('/api/seats');
    const names = Object.keys(states);
    if (names.length === 0) for (let i = 1; i <= 60; i++) names.push('seat-' + String(i).padStart(2, '0'));
    names.sort().forEach((s) => setSeat(s, states[s] || 'offline'));
    legend();
    await loadStats();
    sock = LX.connect(onEvent, (ok) => {
      $('conn').hidden = false; // nothing to say before the first connection
      $('conn').className = 'conn ' + (ok ? 'ok' : 'bad');
      $('conn').dataset.i18n = ok ? 'connected' : 'disconnected';
      $('conn').textContent = LX.t($('conn').dataset.i18n);
      if (ok) statsSoon();
    }, TYPES);
  }

  $('lang').onclick = () => { LX.toggleLang(); legend(); renderDepts(); renderCharts(); relabelAlerts(); };
  $('theme').onclick = () => applyTheme(document.body.classList.contains('dark') ? 'light' : 'dark');
  $('logout').onclick = () => { stopMonitor(); LX.logout(); };
  $('seats').onclick = (e) => {
    const tile = e.target.closest('.seat[data-seat]');
    if (tile && tile.dataset.state === 'talking') monitor(tile.dataset.seat, 'listen');
  };
  $('whisper').onclick = () => { if (monSeat) monitor(monSeat, 'whisper'); };
  $('barge').onclick = () => { if (monSeat) monitor(monSeat, 'barge'); };
  $('listen').onclick = () => { if (monSeat) monitor(monSeat, 'listen'); };
  $('stop-monitor').onclick = stopMonitor;
  $('login').onsubmit = async (e) => {
    e.preventDefault();
    try {
      await LX.login($('user').value.trim(), $('password').value);
      await start();
    } catch (err) {
      $('login-error').textContent = LX.t('login_failed') + ': ' + err.message;
    }
  };
  LX.applyI18n();
  applyTheme(new URLSearchParams(location.search).get('theme') || localStorage.getItem('lx-theme') || 'light');
  if (LX.hasToken()) start().catch(() => {});
})();
