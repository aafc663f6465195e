// Agent screen: one seat's calls as they happen.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const call = { id: '', answeredAt: 0, endedAt: 0, suggestions: [], decided: '' };
  let sock = null, seatState = '', timer = 0, departments = [], phone = null, seatID = '';

  const showError = (msg) => { $('error').textContent = msg ? LX.t('error') + ': ' + msg : ''; };

  function renderState() {
    $('state').textContent = seatState ? LX.t(seatState) : '';
    $('state').className = 'state state-' + seatState;
    const toggle = $('state-toggle');
    toggle.hidden = false;
    toggle.dataset.target = seatState === 'available' ? 'away' : 'available';
    toggle.textContent = LX.t(seatState === 'available' ? 'set_away' : 'set_available');
  }

  function resetCall(id) {
    Object.assign(call, { id, answeredAt: 0, endedAt: 0, suggestions: [], decided: '' });
    $('transcript').replaceChildren();
    $('dtmf').textContent = '';
    $('decided').textContent = '';
    showError('');
    renderSuggestions();
  }

  function tick() {
    if (!call.answeredAt) { $('timer').textContent = '00:00'; return; }
    const end = call.endedAt || Date.now();
    $('timer').textContent = LX.fmtDur(end - call.answeredAt);
  }

  function banner(kind, text, from) {
    $('banner').className = 'banner ' + kind;
    $('banner-text').dataset.i18n = text;
    $('banner-text').textContent = LX.t(text);
    if (from !== undefined) $('banner-from').textContent = from ? LX.t('from') + ' ' + from : '';
  }

  // a partial replaces the line of its utterance; the final replaces it for good
  function transcriptLine(ev) {
    const d = ev.data || {};
    const id = 'u-' + d.channel + '-' + d.utterance_id;
    let line = document.getElementById(id);
    if (!line) {
      line = LX.el('div', { id, class: 'turn ' + d.channel },
        LX.el('span', { class: 'who', 'data-i18n': d.channel === 'agent' ? 'agent' : 'caller' }),
        LX.el('span', { class: 'text' }));
      line.firstChild.textContent = LX.t(d.channel === 'agent' ? 'agent' : 'caller');
      $('transcript').append(line);
    }
    if (ev.type === 'transcript.partial' && line.classList.contains('final')) return; // late partial
    line.classList.toggle('partial', ev.type === 'transcript.partial');
    line.classList.toggle('final', ev.type === 'transcript.final');
    line.lastChild.textContent = d.text || '';
    $('transcript').scrollTop = $('transcript').scrollHeight;
  }

  function renderSuggestions() {
    const ol = $('suggestions');
    ol.replaceChildren();
    $('suggest-backend').textContent = call.backend ? LX.t('backend_' + call.backend) : '';
    call.suggestions.slice(0, 3).forEach((dep) => {
      const btn = LX.el('button', { class: 'accept', 'data-dept': dep.id, 'data-i18n': 'accept' });
      btn.textContent = LX.t('accept');
      btn.disabled = !!call.decided;
      btn.onclick = () => decide(dep.id, true);
      const ev = (dep.evidence || []).map((p) => LX.el('mark', {}, p));
      const cls = [call.decided === dep.id ? 'chosen' : '', call.tentative ? 'tentative' : ''].join(' ').trim();
      const name = LX.lang() === 'en' && dep.name_en ? dep.name_en : (dep.name || dep.id);
      ol.append(LX.el('li', { class: cls, 'data-dept': dep.id },
        call.tentative ? LX.el('span', { class: 'maybe' }, LX.t('tentative')) : '',
        LX.el('span', { class: 'dept' }, name),
        LX.el('span', { class: 'score' }, (dep.score * 100).toFixed(0) + '%'),
        btn,
        LX.el('div', { class: 'evidence' }, ...ev)));
    });
    $('pick').disabled = !call.id || !!call.decided;
  }

  function renderOther() {
    const keep = $('other').value;
    $('other').replaceChildren(...departments.map((x) => LX.el('option', { value: x.id },
      LX.lang() === 'en' && x.name_en ? x.name_en : x.name)));
    if (keep) $('other').value = keep;
  }

  function decide(dept, accepted) {
    if (!call.id) return;
    const top = call.suggestions[0] && call.suggestions[0].id;
    const msg = { type: 'dispatch.decide', call_id: call.id, department: dept, accepted: accepted && dept === top };
    if (!sock.send(msg)) {
      LX.api('/api/dispatch/decide', { json: msg }).catch((e) => showError(e.message));
    }
  }

  // the phone bar: which phone rings, and this page's controls
  async function phoneKind() {
    try {
      const me = await LX.api('/api/me');
      const kind = me.phone || 'none';
      $('phone-kind').dataset.i18n = 'phone_' + kind;
      $('phone-kind').textContent = LX.t('phone_' + kind);
      $('phone').dataset.kind = kind;
    } catch (e) { /* the next state change tries again */ }
  }
  function phoneState(c) {
    $('answer').disabled = !c || c.up;
    $('hangup').disabled = !c;
    $('mute').disabled = !c || !c.up;
    $('hold').disabled = !c || !c.up;
    $('mute').dataset.i18n = c && c.muted ? 'unmute' : 'mute';
    $('hold').dataset.i18n = c && c.held ? 'unhold' : 'hold';
    $('mute').textContent = LX.t($('mute').dataset.i18n);
    $('hold').textContent = LX.t($('hold').dataset.i18n);
    $('phone').dataset.call = c ? (c.up ? 'up' : 'ringing') : '';
    $('phone').dataset.muted = c && c.muted ? '1' : '';
  }
  function setupPhone() {
    const pref = (k, def) => { const v = localStorage.getItem('lx-' + k + '-' + seatID); return v === null ? def : v === '1'; };
    const save = (k, on) => localStorage.setItem('lx-' + k + '-' + seatID, on ? '1' : '0');
    phone = LXPhone.agent((m) => sock && sock.send(m), {
      status: (on, reason) => { $('phone-on').checked = on; if (reason) $('phone-error').textContent = reason; phoneKind(); },
      banner: (kind, from) => banner(kind, kind === 'ringing' ? 'incoming' : 'in_call', from),
      error: (msg) => { $('phone-error').textContent = msg; },
      state: phoneState,
      audio: $('remote-audio'), level: $('mic-level'), mics: $('mic'),
    });
    // auto-answer is the seat's setting, kept by the gateway so it follows the agent to
    // any browser; #autoanswer=1 (kiosks, outside checks) turns it on for this page at once
    const seatURL = '/api/seats/' + encodeURIComponent(seatID);
    const setAuto = (on) => { $('auto-answer').checked = on; phone.setAutoAnswer(on); };
    const saveAuto = (on) => LX.api(seatURL + '/settings', { method: 'PUT', json: { auto_answer: on } })
      .catch((e) => $('phone-error').textContent = e.message);
    if (LX.fragment('autoanswer') === '1') { setAuto(true); saveAuto(true); } else {
      LX.api(seatURL).then((s) => setAuto(!!s.auto_answer)).catch(() => setAuto(false));
    }
    $('auto-answer').onchange = () => { setAuto($('auto-answer').checked); saveAuto($('auto-answer').checked); };
    $('phone-on').checked = pref('phone', true);
    $('phone-on').onchange = () => { save('phone', $('phone-on').checked); phone.setEnabled($('phone-on').checked); };
    $('mic').onchange = () => phone.switchMic();
    $('answer').onclick = () => phone.answer();
    $('hangup').onclick = () => phone.hangup();
    $('mute').onclick = () => { const c = phone.call(); if (c) phone.mute(!c.muted); };
    $('hold').onclick = () => { const c = phone.call(); if (c) phone.hold(!c.held); };
    $('keypad').replaceChildren(...'123456789*0#'.split('').map((k) => {
      const b = LX.el('button', { class: 'key', 'data-key': k }, k);
      b.onclick = () => phone.dtmf(k);
      return b;
    }));
    phoneState(null);
    if ($('phone-on').checked) phone.setEnabled(true);
  }

  function onEvent(ev) {
    const d = ev.data || {};
    if (phone && (ev.type === 'hello' || ev.type.startsWith('phone.'))) phone.handle(ev);
    switch (ev.type) {
      case 'seat.state':
        seatState = d.state;
        renderState();
        phoneKind();
        // a call that rang here and went elsewhere (re-offered, caller hung up) leaves no banner
        if (call.id && !call.answeredAt && !['ringing', 'talking', 'busy'].includes(d.state)) banner('idle', 'no_call', '');
        break;
      case 'call.offered':
        resetCall(ev.call_id);
        banner('ringing', 'incoming', d.from || '');
        break;
      case 'call.answered':
        if (call.id !== ev.call_id) resetCall(ev.call_id);
        call.answeredAt = Date.parse(ev.time);
        banner('active', 'in_call');
        break;
      case 'call.ended':
        if (call.id === ev.call_id) { call.endedAt = Date.parse(ev.time); banner('ended', 'call_ended'); tick(); }
        break;
      case 'transcript.partial': case 'transcript.final':
        if (call.id !== ev.call_id) resetCall(ev.call_id);
        transcriptLine(ev);
        break;
      case 'dispatch.suggested':
        if (call.id !== ev.call_id) resetCall(ev.call_id);
        call.suggestions = d.departments || [];
        call.tentative = !!d.tentative;
        call.backend = d.backend || '';
        renderSuggestions();
        break;
      case 'dispatch.decided':
        if (call.id === ev.call_id) {
          call.decided = d.department;
          const dep = departments.find((x) => x.id === d.department) || call.suggestions.find((x) => x.id === d.department);
          $('decided').textContent = LX.t('decided') + ': ' + ((dep && (LX.lang() === 'en' && dep.name_en || dep.name)) || d.department);
          renderSuggestions();
        }
        break;
      case 'dtmf':
        if (call.id === ev.call_id) $('dtmf').textContent += d.digit || '';
        break;
      case 'error': showError(d.error); break;
    }
  }

  async function start(sess) {
    $('login').hidden = true;
    $('main').hidden = false;
    $('logout').hidden = false;
    $('seat-name').textContent = sess.seat || sess.user;
    seatID = sess.seat || sess.user;
    let me;
    try {
      me = await LX.api('/api/me');
    } catch (e) { return; }
    seatState = me.state || '';
    renderState();
    try {
      departments = await LX.api('/api/departments');
    } catch (e) { departments = []; }
    renderOther();
    renderSuggestions();
    sock = LX.connect(onEvent, (ok) => {
      $('conn').hidden = false; // nothing to say before the first connection
      $('conn').className = 'conn ' + (ok ? 'ok' : 'bad');
      $('conn').dataset.i18n = ok ? 'connected' : 'disconnected';
      $('conn').textContent = LX.t($('conn').dataset.i18n);
    }, null, me.resume_seq);
    timer = setInterval(tick, 1000);
    setupPhone();
    phoneKind();
  }

  $('lang').onclick = () => { LX.toggleLang(); renderState(); renderSuggestions(); renderOther(); };
  $('logout').onclick = () => {
    clearInterval(timer);
    if (phone) phone.setEnabled(false);
    if (sock) sock.close();
    LX.logout();
  };
  $('pick').onclick = () => { if ($('other').value) decide($('other').value, false); };
  $('state-toggle').onclick = () => {
    const msg = { type: 'seat.set_state', state: $('state-toggle').dataset.target };
    if (!sock.send(msg)) LX.api('/api/seat/state', { json: msg }).catch((e) => showError(e.message));
  };
  $('login').onsubmit = async (e) => {
    e.preventDefault();
    try {
      start(await LX.login($('user').value.trim(), $('password').value));
    } catch (err) {
      $('login-error').textContent = LX.t('login_failed') + ': ' + err.message;
    }
  };
  LX.applyI18n();
  if (LX.hasToken()) {
    if (LX.session()) start(LX.session());
    else LX.api('/api/me').then(start).catch(() => {}); // a token from the URL fragment
  }
})();
