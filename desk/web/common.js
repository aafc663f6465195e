// Shared by the agent screen and the wallboard: language, login, API calls and the event
// socket with resume-by-seq. Plain browser JavaScript, no build step.
'use strict';

const LX = (() => {
  const dict = {
    zh: {
      title: '连心 坐席', admin_title: '连心 监控大屏', user: '用户', seat: '坐席', password: '密码',
      login: '登录', logout: '退出', login_failed: '登录失败', connected: '已连接', disconnected: '连接中断，正在重连…',
      available: '空闲', away: '离开', ringing: '振铃', talking: '通话中', busy: '通话中', wrapup: '话后整理', offline: '离线',
      set_available: '置为空闲', set_away: '置为离开', incoming: '来电', from: '主叫', in_call: '通话中',
      call_ended: '通话结束', transcript: '实时转写', caller: '市民', agent: '坐席', suggestions: '建议派单部门',
      accept: '采纳', other: '其他部门', pick: '派给所选部门', decided: '已派单', dtmf: '按键',
      evidence: '依据', score: '得分', no_call: '等待来电', offered: '呼入', answered: '接通', abandoned: '放弃',
      avg_wait: '平均等待', avg_talk: '平均通话', per_dept: '今日各部门派单', alerts: '热点预警',
      asr: '语音识别', seats: '坐席状态', lang: 'English', error: '错误', seconds: '秒', calls: '件',
      failed: '失败', ok: '正常', down: '异常',
      phone: '话机', rings: '振铃设备', phone_webrtc: '本浏览器', phone_sip: 'SIP 话机', phone_none: '无（不会振铃）',
      use_page: '本页作为话机', auto_answer: '自动应答', answer: '接听', hangup: '挂断', mute: '静音', unmute: '取消静音',
      hold: '保持', unhold: '恢复', keypad: '拨号盘', mic: '麦克风', level: '音量',
      mic_denied: '浏览器拒绝了麦克风：请在地址栏的站点设置中允许本站使用麦克风，然后重新勾选“本页作为话机”',
      mic_missing: '找不到麦克风：请插好耳机或选择另一个麦克风', mic_busy: '麦克风被其他程序占用', mic_failed: '无法打开麦克风',
      ice_failed: '语音连接失败（ICE）：浏览器无法连到网关的媒体端口，请检查网络或防火墙；正在重试，来电方听到静音',
      ice_failed_ring: '语音连接失败（ICE）：浏览器无法连到网关的媒体端口，来电已转给其他坐席；请检查网络或防火墙',
      listen: '监听', whisper: '耳语', barge: '强插', stop_listen: '停止监听', monitoring: '正在监听',
      acknowledge: '确认', close: '关闭', raised: '新预警', grown: '增长', acknowledged: '已确认', by: '确认人',
      failing: '故障', unsaved: '未保存', tentative: '可能',
      history: '通话记录', history_title: '连心 通话记录', day: '日期', seat: '坐席', search: '搜索', find: '查找',
      when: '时间', caller: '来电', outcome: '结果', talk: '通话', survey: '满意度', no_recording: '没有录音',
      answered_o: '接通', abandoned_o: '放弃', failed_o: '失败', decided: '派单', none: '无',
      answer_rate: '接通率', service_level: '20秒接通率', waiting: '排队', longest_wait: '最长等待',
      department: '部门', issue: '事项', satisfaction: '满意率', backend_llm: '大模型', backend_local: '本地模型（大模型不可用）',
      satisfied: '满意', basic: '基本满意', dissatisfied: '不满意', no_answer: '未评价',
      reports: '数据报告', theme_dark: '深色', theme_light: '浅色', calls_by_hour: '今日分时段来电', issue_types: '今日事项分布',
      urgent_calls: '紧急来电', undelivered_orders: '未送达工单', retry: '重新投递',
      reports_title: '连心 数据分析报告', report_kind: '报表', daily: '日报', weekly: '周报', monthly: '月报',
      show: '查看', print: '打印', download: '下载', wallboard: '监控大屏', loading: '正在生成报告…',
      show_original: '显示原文', hide_original: '隐藏原文', reveal_reason: '查看原文的原因（记入审计日志）',
      reveal_ok: '显示', cancel: '取消', original_shown: '原文（本次查看已记入审计日志）',
    },
    en: {
      title: 'Lianxin agent', admin_title: 'Lianxin wallboard', user: 'User', seat: 'Seat', password: 'Password',
      login: 'Log in', logout: 'Log out', login_failed: 'Login failed', connected: 'Connected', disconnected: 'Disconnected, reconnecting…',
      available: 'Available', away: 'Away', ringing: 'Ringing', talking: 'On call', busy: 'On call', wrapup: 'Wrap-up', offline: 'Offline',
      set_available: 'Go available', set_away: 'Go away', incoming: 'Incoming call', from: 'From', in_call: 'On call',
      call_ended: 'Call ended', transcript: 'Live transcript', caller: 'Caller', agent: 'Agent', suggestions: 'Suggested departments',
      accept: 'Accept', other: 'Other department', pick: 'Dispatch to selected', decided: 'Dispatched', dtmf: 'Keys',
      evidence: 'Evidence', score: 'Score', no_call: 'Waiting for a call', offered: 'Offered', answered: 'Answered', abandoned: 'Abandoned',
      avg_wait: 'Avg wait', avg_talk: 'Avg talk', per_dept: 'Calls per department today', alerts: 'Hotspot alerts',
      asr: 'Speech recognition', seats: 'Seats', lang: '中文', error: 'Error', seconds: 's', calls: 'calls',
      failed: 'Failed', ok: 'OK', down: 'Down',
      phone: 'Phone', rings: 'Rings on', phone_webrtc: 'this browser', phone_sip: 'SIP phone', phone_none: 'nothing (will not ring)',
      use_page: 'Use this page as phone', auto_answer: 'Auto-answer', answer: 'Answer', hangup: 'Hang up', mute: 'Mute', unmute: 'Unmute',
      hold: 'Hold', unhold: 'Resume', keypad: 'Keypad', mic: 'Microphone', level: 'Level',
      mic_denied: 'The browser refused the microphone: allow this site to use it (site settings in the address bar), then tick "Use this page as phone" again',
      mic_missing: 'No microphone found: plug in a headset or pick another microphone', mic_busy: 'The microphone is in use by another program', mic_failed: 'Cannot open the microphone',
      ice_failed: 'Voice connection failed (ICE): the browser cannot reach the gateway\'s media port; check the network or firewall. Retrying; the caller hears silence',
      ice_failed_ring: 'Voice connection failed (ICE): the browser cannot reach the gateway\'s media port, so the call went to another seat; check the network or firewall',
      listen: 'Listen', whisper: 'Whisper', barge: 'Barge in', stop_listen: 'Stop', monitoring: 'Listening to',
      acknowledge: 'Acknowledge', close: 'Close', raised: 'New', grown: 'Growing', acknowledged: 'Acknowledged', by: 'by',
      failing: 'failing', unsaved: 'unsaved', tentative: 'maybe',
      history: 'Call history', history_title: 'Lianxin call history', day: 'Day', seat: 'Seat', search: 'Search', find: 'Find',
      when: 'When', caller: 'Caller', outcome: 'Outcome', talk: 'Talk', survey: 'Satisfaction', no_recording: 'No recording',
      answered_o: 'answered', abandoned_o: 'abandoned', failed_o: 'failed', decided: 'Dispatched to', none: 'none',
      answer_rate: 'Answer rate', service_level: 'Answered in 20 s', waiting: 'Waiting', longest_wait: 'Longest wait',
      department: 'Department', issue: 'Issue type', satisfaction: 'Satisfaction', backend_llm: 'language model', backend_local: 'local model (language model unavailable)',
      satisfied: 'satisfied', basic: 'fairly satisfied', dissatisfied: 'dissatisfied', no_answer: 'no answer',
      reports: 'Reports', theme_dark: 'Dark', theme_light: 'Light', calls_by_hour: 'Calls per hour today', issue_types: 'Issue types today',
      urgent_calls: 'Urgent calls', undelivered_orders: 'Undelivered work orders', retry: 'Retry',
      reports_title: 'Lianxin analysis reports', report_kind: 'Report', daily: 'Daily', weekly: 'Weekly', monthly: 'Monthly',
      show: 'Show', print: 'Print', download: 'Download', wallboard: 'Wallboard', loading: 'Making the report…',
      show_original: 'Show original', hide_original: 'Hide original', reveal_reason: 'Reason for reading the original (written to the audit log)',
      reveal_ok: 'Show', cancel: 'Cancel', original_shown: 'Original (this reading is in the audit log)',
    },
  };
  let lang = localStorage.getItem('lx-lang') || 'zh';
  const t = (k) => (dict[lang] && dict[lang][k]) || k;
  const applyI18n = () => {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll('[data-i18n-ph]').forEach((el) => { el.placeholder = t(el.dataset.i18nPh); });
  };
  const toggleLang = () => { lang = lang === 'zh' ? 'en' : 'zh'; localStorage.setItem('lx-lang', lang); applyI18n(); };

  const key = (k) => 'lx-' + location.pathname + '-' + k;
  // #token=…&autoanswer=1 (kiosks, headsets, outside checks): the fragment never reaches the
  // server; the token is kept like a login's and the fragment wiped from the address bar
  const frag = new URLSearchParams(location.hash.slice(1));
  if (frag.get('token')) {
    sessionStorage.setItem(key('token'), frag.get('token'));
    sessionStorage.removeItem(key('session'));
    history.replaceState(null, '', location.pathname + location.search);
  }
  let token = sessionStorage.getItem(key('token')) || '';
  const session = () => JSON.parse(sessionStorage.getItem(key('session')) || 'null');

  async function login(user, password) {
    const res = await fetch('/api/login', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user, password }),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.error || res.status);
    token = body.token;
    sessionStorage.setItem(key('token'), token);
    sessionStorage.setItem(key('session'), JSON.stringify(body));
    return body;
  }
  function logout() {
    // revoke the token on the server too (it closes this token's sockets); a dead token
    // answers 401, which changes nothing here
    if (token) fetch('/api/logout', { method: 'POST', headers: { Authorization: 'Bearer ' + token }, keepalive: true }).catch(() => {});
    token = '';
    sessionStorage.removeItem(key('token'));
    sessionStorage.removeItem(key('session'));
    location.reload();
  }
  async function api(path, opts = {}) {
    opts.headers = Object.assign({ Authorization: 'Bearer ' + token }, opts.headers || {});
    if (opts.json !== undefined) {
      opts.method = opts.method || 'POST';
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(opts.json);
    }
    const res = await fetch(path, opts);
    const body = await res.json().catch(() => ({}));
    if (res.status === 401) { logout(); throw new Error('unauthorized'); }
    if (!res.ok) throw new Error(body.error || res.status);
    return body;
  }

  // connect keeps one socket open. It resumes with after_seq from the last stored event it saw
  // (or the hello's last_seq), so a reconnect replays what was missed; events carry no seq when
  // they are live-only (partials) and are passed through.
  // types, when given, limits the stream to those event types ("call." matches call.*);
  // fromSeq, when given, replays what followed it (the server's resume_seq for a call in
  // progress), otherwise the first connection is live only.
  function connect(onEvent, onStatus, types, fromSeq) {
    let ws = null, closed = false, backoff = 500;
    let lastSeq = typeof fromSeq === 'number' ? fromSeq : -1;
    const open = () => {
      const q = new URLSearchParams({ token });
      if (lastSeq >= 0) q.set('after_seq', String(lastSeq));
      if (types) q.set('types', types.join(','));
      const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
      ws = new WebSocket(proto + '//' + location.host + '/ws?' + q);
      ws.onmessage = (m) => {
        let ev;
        try { ev = JSON.parse(m.data); } catch (e) { return; }
        if (ev.type === 'hello') {
          onStatus(true);
          backoff = 500;
          // reset: the server has no event as far as our position (its database was
          // replaced); its last_seq is the position now
          if (lastSeq < 0 || ev.data.reset) lastSeq = ev.data.last_seq;
        }
        if (typeof ev.seq === 'number') {
          if (ev.seq <= lastSeq && ev.type !== 'hello') return;
          lastSeq = ev.seq;
        }
        onEvent(ev);
      };
      ws.onclose = async () => {
        onStatus(false);
        if (closed) return;
        // Only a dead token (401: api() shows the login form) stops reconnecting; a network
        // failure or a gateway restart keeps retrying with backoff.
        try { await api('/api/me'); } catch (e) { if (e.message === 'unauthorized') return; }
        setTimeout(open, backoff);
        backoff = Math.min(backoff * 2, 10000);
      };
    };
    open();
    return {
      send: (msg) => { if (ws && ws.readyState === 1) { ws.send(JSON.stringify(msg)); return true; } return false; },
      close: () => { closed = true; if (ws) ws.close(); },
    };
  }

  const el = (tag, attrs = {}, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'class') e.className = v; else if (k.startsWith('data-')) e.setAttribute(k, v); else e[k] = v;
    }
    for (const k of kids) e.append(k);
    return e;
  };
  const fmtDur = (ms) => {
    const s = Math.max(0, Math.round(ms / 1000));
    return String(Math.floor(s / 60)).padStart(2, '0') + ':' + String(s % 60).padStart(2, '0');
  };

  // blob fetches a protected file (a recording) with the session's token
  async function blob(path) {
    const res = await fetch(path, { headers: { Authorization: 'Bearer ' + token } });
    if (!res.ok) throw new Error((await res.json().catch(() => ({}))).error || res.status);
    return res.blob();
  }

  return { t, applyI18n, toggleLang, login, logout, api, blob, connect, el, fmtDur, session,
    hasToken: () => token !== '', lang: () => lang, fragment: (k) => frag.get(k) };
})();
