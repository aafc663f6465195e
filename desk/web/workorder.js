// The work-order form (智能填单) on the agent screen: the call's draft fills in while the
// caller speaks, the agent edits it and submits, and the work-order system's number appears
// once it has answered. It keeps its own socket, limited to call and work-order events, so
// the rest of the screen does not need to know about it.
'use strict';

(() => {
  const root = document.getElementById('workorder');
  if (!root || typeof LX === 'undefined') return;
  const words = {
    zh: { title: '工单草稿', caller_number: '来电号码', callback_number: '回拨号码', department_name: '承办部门',
      issue_name: '事项类型', place: '地点', address: '详细地址', event_time: '发生时间', summary: '诉求摘要',
      urgent: '紧急', submit: '提交工单', submitted: '已提交，等待工单系统…', delivered: '工单号', dead: '投递失败',
      llm: '模型摘要', extractive: '摘录摘要' },
    en: { title: 'Work order draft', caller_number: 'Caller', callback_number: 'Callback number', department_name: 'Department',
      issue_name: 'Issue type', place: 'Place', address: 'Address', event_time: 'When', summary: 'Summary',
      urgent: 'Urgent', submit: 'Submit order', submitted: 'Submitted, waiting for the work-order system…', delivered: 'Order number',
      dead: 'Delivery failed', llm: 'model summary', extractive: 'extractive summary' },
  };
  const w = (k) => (words[LX.lang()] || words.zh)[k] || k;
  const text = ['caller_number', 'callback_number', 'department_name', 'issue_name', 'place', 'address', 'event_time'];
  let callID = '', draft = {}, edited = {};

  const inputs = {};
  const title = LX.el('h2', {});
  const fields = LX.el('div', { class: 'wo-fields' });
  for (const k of text.concat(['summary'])) {
    const input = k === 'summary' ? LX.el('textarea', { rows: 4 }) : LX.el('input', {});
    input.name = 'wo-' + k;
    input.oninput = () => { edited[k] = true; };
    inputs[k] = input;
    const row = LX.el('label', { class: 'wo-' + k }, LX.el('span', { class: 'wo-label', 'data-k': k }), input);
    row.style.display = 'block'; // one field a line without touching the shared style sheet
    input.style.width = '100%';
    fields.append(row);
  }
  const urgent = LX.el('input', { type: 'checkbox', name: 'wo-urgent' });
  urgent.onchange = () => { edited.urgent = true; };
  const source = LX.el('small', { class: 'wo-source' });
  const submit = LX.el('button', { type: 'button', class: 'wo-submit' });
  const status = LX.el('p', { class: 'wo-status' });
  root.append(title, fields, LX.el('label', { class: 'wo-urgent' }, urgent, LX.el('span', { class: 'wo-label', 'data-k': 'urgent' })),
    source, submit, status);

  const label = () => {
    title.textContent = w('title');
    root.querySelectorAll('.wo-label').forEach((s) => { s.textContent = w(s.dataset.k); });
    submit.textContent = w('submit');
    source.textContent = draft.summary_source ? w(draft.summary_source) : '';
  };
  const reset = (id) => {
    callID = id; draft = {}; edited = {};
    for (const k in inputs) inputs[k].value = '';
    urgent.checked = false; status.textContent = ''; root.hidden = false; root.classList.remove('urgent');
    root.dataset.drafts = '0';
    label();
  };
  // a field the agent has typed in keeps what they typed; the rest follow the draft
  const fill = (d) => {
    draft = d;
    for (const k in inputs) if (!edited[k]) inputs[k].value = d[k] || '';
    if (!edited.urgent) urgent.checked = !!d.urgent;
    root.classList.toggle('urgent', urgent.checked);
    root.style.outline = urgent.checked ? '3px solid #c62828' : '';
    root.dataset.complete = d.complete ? '1' : '';
    root.dataset.drafts = String((Number(root.dataset.drafts) || 0) + 1);
    label();
  };
  const show = (st) => {
    if (st.order_no) status.textContent = w('delivered') + ': ' + st.order_no;
    else if (st.state === 'dead') status.textContent = w('dead') + (st.error ? ': ' + st.error : '');
    else status.textContent = w('submitted');
    status.dataset.state = st.state || '';
  };
  submit.onclick = async () => {
    if (!callID) return;
    const order = Object.assign({}, draft);
    delete order.call_id; delete order.complete;
    for (const k in inputs) order[k] = inputs[k].value.trim();
    order.urgent = urgent.checked;
    try { show(await LX.api('/api/calls/' + encodeURIComponent(callID) + '/workorder', { json: order })); }
    catch (e) { status.textContent = e.message; status.dataset.state = 'error'; }
  };

  function onEvent(ev) {
    if (ev.type === 'call.offered' && ev.seat) { if (ev.call_id !== callID) reset(ev.call_id); return; }
    if (!ev.call_id || (callID && ev.call_id !== callID)) return;
    if (!callID) reset(ev.call_id);
    if (ev.type === 'workorder.draft') fill(ev.data || {});
    if (ev.type === 'workorder.status') show(ev.data || {});
  }

  let started = false;
  async function start() {
    if (started || !LX.hasToken()) return;
    started = true;
    const me = await LX.api('/api/me').catch(() => null);
    if (!me || !me.seat) { started = false; return; }
    LX.connect(onEvent, (ok) => { root.dataset.live = ok ? '1' : ''; }, ['call.offered', 'workorder.'],
      typeof me.resume_seq === 'number' ? me.resume_seq : undefined);
  }
  root.hidden = true;
  label();
  const main = document.getElementById('main');
  if (main) new MutationObserver(() => { if (!main.hidden) start(); }).observe(main, { attributes: true, attributeFilter: ['hidden'] });
  document.getElementById('lang')?.addEventListener('click', label);
  start();
})();
