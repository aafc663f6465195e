// Call history: past calls by day (and seat, for admins), full-text search over the
// transcripts, and one call's transcript beside its recording, the line being played lit.
// Agents see their own calls, admins all; the server decides, and masks personal numbers.
// An admin holding pii:reveal may show a call's original transcript, giving a reason that
// the server writes to the audit log first.
(() => {
  const $ = (id) => document.getElementById(id);
  let audioURL = '', canReveal = false, current = null; // current: the call shown, as the server masked it

  const outcome = (c) => LX.t((c.outcome || 'none') + '_o');
  const talk = (c) => (c.answered_at && c.ended_at ? LX.fmtDur(new Date(c.ended_at) - new Date(c.answered_at)) : '');
  // each leg's audio over the call: E-model MOS, the worse direction's loss, the round trip
  const legQuality = (l) => {
    const q = l.quality, en = LX.lang() === 'en';
    return LX.t(l.leg) + ' MOS ' + q.mos.toFixed(2) + ' · ' + (en ? 'loss ' : '丢包 ') +
      (100 * Math.max(q.loss, q.peer_loss || 0)).toFixed(1) + '%' +
      (q.rtt_ms !== undefined ? ' · ' + (en ? 'RTT ' : '往返 ') + Math.round(q.rtt_ms) + ' ms' : '');
  };
  const quality = (legs) => (legs || []).filter((l) => l.quality)
    .sort((a, b) => (b.leg === 'caller') - (a.leg === 'caller')).map(legQuality).join(' | ');

  async function list() {
    const q = new URLSearchParams({ limit: '200' });
    if ($('day').value) q.set('date', $('day').value);
    if ($('seat').value.trim()) q.set('seat', $('seat').value.trim());
    if ($('department').value) q.set('department', $('department').value);
    if ($('issue').value.trim()) q.set('issue', $('issue').value.trim());
    const calls = await LX.api('/api/calls?' + q);
    $('hits').replaceChildren();
    $('calls').replaceChildren(...calls.map((c) => {
      const tr = LX.el('tr', { 'data-call': c.id },
        LX.el('td', {}, new Date(c.offered_at).toLocaleString()), LX.el('td', {}, c.seat || ''),
        LX.el('td', {}, c.from || ''), LX.el('td', {}, outcome(c)), LX.el('td', {}, talk(c)),
        LX.el('td', {}, c.survey ? LX.t(c.survey) : ''));
      tr.onclick = () => open(c.id);
      return tr;
    }));
  }

  async function search() {
    const q = $('q').value.trim();
    if (!q) return;
    const res = await LX.api('/api/transcripts?q=' + encodeURIComponent(q));
    $('hits').replaceChildren(...(res.results || []).map((u) => {
      const li = LX.el('li', { 'data-call': u.call_id }, LX.el('b', {}, u.seat || ''), ' ', u.text);
      li.onclick = () => open(u.call_id);
      return li;
    }));
  }

  async function open(id) {
    const c = await LX.api('/api/calls/' + encodeURIComponent(id));
    $('call').hidden = false;
    $('call').dataset.call = id;
    $('call-title').textContent = new Date(c.offered_at).toLocaleString() + ' · ' + (c.seat || '') + ' · ' + (c.from || '');
    const d = (c.decisions || [])[c.decisions ? c.decisions.length - 1 : 0];
    $('call-decision').textContent = LX.t('decided') + ': ' + (d ? d.department : LX.t('none'));
    $('call-quality').textContent = quality(c.legs);
    current = c;
    showLines(c, false);
    resetReveal();
    if (audioURL) URL.revokeObjectURL(audioURL);
    audioURL = '';
    $('audio-error').textContent = '';
    try {
      audioURL = URL.createObjectURL(await LX.blob('/api/calls/' + encodeURIComponent(id) + '/recording'));
      $('audio').src = audioURL;
    } catch (err) {
      $('audio').removeAttribute('src');
      $('audio-error').textContent = LX.t('no_recording') + ': ' + err.message;
    }
  }

  // showLines lists a call's utterances in time order; original marks them as unmasked
  function showLines(c, original) {
    const lines = (c.utterances || []).slice().sort((a, b) => a.start_ms - b.start_ms);
    $('lines').replaceChildren(...lines.map((u) => LX.el('li',
      { class: 'line ' + u.channel + (original ? ' original' : ''), 'data-start': u.start_ms, 'data-end': u.end_ms },
      LX.el('time', {}, LX.fmtDur(u.start_ms)), ' ', u.text)));
  }

  function resetReveal() {
    $('reveal').hidden = !canReveal;
    $('reveal-form').hidden = true;
    $('reveal-notice').hidden = true;
    $('reveal-btn').hidden = false;
    $('reveal-btn').dataset.i18n = 'show_original';
    $('reveal-btn').textContent = LX.t('show_original');
    $('reveal-error').textContent = '';
    $('reveal-reason').value = '';
  }

  // reveal reads the original transcript: the server audits the reading and its reason first
  async function reveal() {
    const id = $('call').dataset.call;
    $('reveal-error').textContent = '';
    try {
      const q = new URLSearchParams({ reason: $('reveal-reason').value.trim() });
      const c = await LX.api('/api/calls/' + encodeURIComponent(id) + '/original?' + q);
      if ($('call').dataset.call !== id) return; // another call was opened meanwhile
      showLines(c, true);
      $('reveal-form').hidden = true;
      $('reveal-notice').hidden = false;
      $('reveal-btn').hidden = false;
      $('reveal-btn').dataset.i18n = 'hide_original';
      $('reveal-btn').textContent = LX.t('hide_original');
    } catch (err) {
      $('reveal-error').textContent = LX.t('error') + ': ' + err.message;
    }
  }

  // highlight lights the line under the play position and keeps it in view
  function highlight() {
    const ms = $('audio').currentTime * 1000;
    for (const li of $('lines').children) {
      const on = ms >= Number(li.dataset.start) && ms < Number(li.dataset.end);
      if (on && !li.classList.contains('playing')) li.scrollIntoView({ block: 'nearest' });
      li.classList.toggle('playing', on);
    }
  }

  async function start() {
    $('login').hidden = true;
    $('main').hidden = false;
    $('logout').hidden = false;
    const me = await LX.api('/api/me');
    $('seat-filter').hidden = me.role !== 'admin';
    $('reports-link').hidden = me.role !== 'admin';
    canReveal = (me.permissions || []).includes('pii:reveal');
    const deps = await LX.api('/api/departments').catch(() => []);
    $('department').append(...(deps || []).map((d) => LX.el('option', { value: d.id },
      LX.lang() === 'en' && d.name_en ? d.name_en : d.name)));
    await list();
  }

  $('audio').addEventListener('timeupdate', highlight);
  $('audio').addEventListener('seeked', highlight);
  $('filter').onsubmit = (e) => { e.preventDefault(); list().catch(() => {}); };
  $('searchform').onsubmit = (e) => { e.preventDefault(); search().catch(() => {}); };
  $('reveal-btn').onclick = () => {
    if ($('reveal-btn').dataset.i18n === 'hide_original') {
      showLines(current, false);
      resetReveal();
      return;
    }
    $('reveal-btn').hidden = true;
    $('reveal-form').hidden = false;
    $('reveal-reason').focus();
  };
  $('reveal-cancel').onclick = resetReveal;
  $('reveal-form').onsubmit = (e) => { e.preventDefault(); reveal(); };
  $('lang').onclick = () => LX.toggleLang();
  $('logout').onclick = () => LX.logout();
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
  if (LX.hasToken()) start().catch(() => {});
})();
