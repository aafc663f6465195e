// The wallboard's work-order panel: urgent calls (gas, fire, people trapped, self-harm) the
// moment the caller says so (and, on connecting, those of the day still to be seen), and
// the orders the work-order system never took (dead letters), each with a button that
// queues it again. Its own socket carries only these and the calls' ends.
'use strict';

(() => {
  const root = document.getElementById('workorders');
  if (!root || typeof LX === 'undefined') return;
  const urgentList = LX.el('ul', { class: 'wo-urgent-list' });
  const deadList = LX.el('ul', { class: 'wo-dead-list' });
  // labelled through data-i18n, so that the language toggle relabels them
  const label = (tag, key, attrs = {}) => LX.el(tag, Object.assign({ 'data-i18n': key }, attrs), LX.t(key));
  root.append(label('h2', 'urgent_calls'), urgentList, label('h2', 'undelivered_orders'), deadList);

  const urgent = (ev) => {
    const d = ev.data || {};
    const li = LX.el('li', { class: 'wo-urgent', 'data-call': ev.call_id || '' });
    li.textContent = (d.reasons || []).join('、') + ' · ' + (d.seat || '') + ' · ' + (d.place || '') + ' ' + (d.summary || '');
    li.style.color = '#c62828';
    // a socket that connects again is told the day's urgent calls again: one line a call
    if (ev.call_id) urgentList.querySelector('li[data-call="' + CSS.escape(ev.call_id) + '"]')?.remove();
    urgentList.prepend(li);
    while (urgentList.children.length > 50) urgentList.lastChild.remove();
  };

  // A call leaves the urgent list once it has ended and its order is on its way (queued or
  // delivered), as the list sent on connecting is chosen; an order that dies leaves it in
  // the supervisor's hands. What is known is kept on the call's line, so nothing is kept
  // for calls that are not listed.
  const settle = (ev) => {
    const li = urgentList.querySelector('li[data-call="' + CSS.escape(ev.call_id) + '"]');
    if (!li) return;
    if (ev.type === 'call.ended') li.dataset.ended = '1';
    if (ev.type === 'workorder.status' && ev.data) li.dataset.handed = ev.data.state === 'dead' ? '' : '1';
    if (li.dataset.ended && li.dataset.handed) li.remove();
  };

  async function loadDead() {
    const res = await LX.api('/api/workorders?state=dead').catch(() => ({ orders: [] }));
    deadList.replaceChildren(...(res.orders || []).map((o) => {
      const btn = label('button', 'retry', { type: 'button', class: 'wo-retry', 'data-id': String(o.id) });
      btn.onclick = async () => {
        btn.disabled = true;
        try { await LX.api('/api/workorders/' + o.id + '/retry', { method: 'POST' }); } catch (e) { btn.disabled = false; return; }
        loadDead();
      };
      return LX.el('li', { class: 'wo-dead', 'data-id': String(o.id) }, o.key + ' · ' + (o.last_error || '') + ' ', btn);
    }));
    root.dataset.dead = String((res.orders || []).length);
  }

  function onEvent(ev) {
    if (ev.type === 'workorder.urgent') urgent(ev);
    if (ev.type === 'workorder.status' && ev.data && ev.data.state === 'dead') loadDead();
    if (ev.call_id) settle(ev);
  }

  let started = false;
  function start() {
    if (started || !LX.hasToken()) return;
    started = true;
    // listed on each (re)connection, once the socket is subscribed: none is missed between
    LX.connect(onEvent, (ok) => { if (ok) loadDead(); }, ['workorder.urgent', 'workorder.status', 'call.ended']);
  }
  const main = document.getElementById('main');
  if (main) new MutationObserver(() => { if (!main.hidden) start(); }).observe(main, { attributes: true, attributeFilter: ['hidden'] });
  start();
})();
