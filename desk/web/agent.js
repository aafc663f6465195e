// Agent screen: one seat's calls as they happen.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const call = { id: '', answeredAt: 0, endedAt: 0, suggestions: [], decided: '' };
  let sock = null, seatState = '', timer = 0, departments = [];

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
    call.suggestions.slice(0, 3).forEach((dep) => {
      const btn = LX.el('button', { class: 'accept', 'data-dept': dep.id, 'data-i18n': 'accept' });
      btn.textContent = LX.t('accept');
      btn.disabled = !!call.decided;
      btn.onclick = () => decide(dep.id, true);
      const ev = (dep.evidence || []).map((p) => LX.el('mark', {}, p));
      ol.append(LX.el('li', { class: call.decided === dep.id ? 'chosen' : '', 'data-dept': dep.id },
        LX.el('span', { class: 'dept' }, dep.name || dep.id),
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

  function onEvent(ev) {
    const d = ev.data || {};
    switch (ev.type) {
      case 'seat.state':
        seatState = d.state;
        renderState();
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
      $('conn').className = 'conn ' + (ok ? 'ok' : 'bad');
      $('conn').dataset.i18n = ok ? 'connected' : 'disconnected';
      $('conn').textContent = LX.t($('conn').dataset.i18n);
    }, null, me.resume_seq);
    timer = setInterval(tick, 1000);
  }

  $('lang').onclick = () => { LX.toggleLang(); renderState(); renderSuggestions(); renderOther(); };
  $('logout').onclick = () => { clearInterval(timer); if (sock) sock.close(); LX.logout(); };
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
  if (LX.hasToken() && LX.session()) start(LX.session());
})();
