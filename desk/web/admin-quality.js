// The wallboard's call-quality flags: a call whose audio turns poor (an E-model MOS under
// the gateway's threshold, or too much packet loss, on either leg) is listed with a
// badge, and when the poor leg is the agent's (the seat's own network or phone) the
// seat's tile is flagged too. A flag goes when the call recovers or ends. Its own socket
// carries only these events, beginning with the calls flagged when it connects.
'use strict';

(() => {
  const root = document.getElementById('quality');
  if (!root || typeof LX === 'undefined') return;
  const words = {
    zh: { title: '通话质量告警', badge: '音质差', caller: '主叫', agent: '坐席', loss: '丢包', rtt: '往返' },
    en: { title: 'Poor call quality', badge: 'Poor audio', caller: 'caller', agent: 'agent', loss: 'loss', rtt: 'RTT' },
  };
  const w = (k) => words[LX.lang() === 'en' ? 'en' : 'zh'][k];
  const title = LX.el('h2', {});
  const list = LX.el('ul', { class: 'quality-list' });
  root.append(title, list);
  const calls = new Map(); // call id -> last call.quality event
  const seatCall = new Map(); // seat -> the call that flags it

  const badge = () => LX.el('span', { class: 'quality-badge quality-poor' }, w('badge'));
  const legText = (l) => w(l.leg) + ' MOS ' + l.mos.toFixed(2) + ' ' + w('loss') + ' ' + Math.round(100 * l.loss) + '%' +
    (l.rtt_ms !== undefined ? ' ' + w('rtt') + ' ' + Math.round(l.rtt_ms) + 'ms' : '');

  function flagSeat(seat, on) {
    const tile = document.querySelector('.seat[data-seat="' + CSS.escape(seat) + '"]');
    if (!tile) return;
    const old = tile.querySelector('.quality-badge');
    if (old) old.remove();
    if (!on) { delete tile.dataset.quality; return; }
    tile.dataset.quality = 'poor';
    // the tile's last child is its state, which the wallboard rewrites
    tile.insertBefore(badge(), tile.lastChild);
  }

  function render() {
    title.textContent = w('title');
    list.replaceChildren(...[...calls.values()].map((ev) => {
      const legs = (ev.data.legs || []).filter((l) => l.poor);
      return LX.el('li', { class: 'quality-poor', 'data-call': ev.call_id }, badge(),
        ' ' + (ev.seat || '') + ' · ' + legs.map(legText).join(' · '));
    }));
    for (const [seat, call] of seatCall) flagSeat(seat, calls.has(call));
    root.hidden = calls.size === 0;
  }

  function onEvent(ev) {
    const d = ev.data || {};
    if (ev.type === 'call.quality') {
      if (d.poor) calls.set(ev.call_id, ev); else calls.delete(ev.call_id);
      if (ev.seat && d.seat_poor) seatCall.set(ev.seat, ev.call_id);
      else if (ev.seat && seatCall.get(ev.seat) === ev.call_id) { seatCall.delete(ev.seat); flagSeat(ev.seat, false); }
    } else if (ev.type === 'call.ended') {
      calls.delete(ev.call_id);
      if (ev.seat && seatCall.get(ev.seat) === ev.call_id) { seatCall.delete(ev.seat); flagSeat(ev.seat, false); }
    }
    render();
  }

  let started = false;
  function start() {
    if (started || !LX.hasToken()) return;
    started = true;
    render();
    LX.connect(onEvent, () => {}, ['call.quality', 'call.ended']);
  }
  // the state on connecting may come before the wallboard has drawn its seats: flag them
  // once it has
  const seats = document.getElementById('seats');
  if (seats) {
    new MutationObserver(() => {
      for (const [seat, call] of seatCall) if (calls.has(call)) flagSeat(seat, true);
    }).observe(seats, { childList: true });
  }
  const lang = document.getElementById('lang');
  if (lang) lang.addEventListener('click', () => render());
  const main = document.getElementById('main');
  if (main) new MutationObserver(() => { if (!main.hidden) start(); }).observe(main, { attributes: true, attributeFilter: ['hidden'] });
  start();
})();
