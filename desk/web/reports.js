// Analysis reports (数据分析报告) for admins: pick a day, week or month; the gateway makes
// the report, this page shows it with its charts, prints it and downloads it as PDF,
// XLSX, CSV or HTML. ?period=…&date=… in the address opens one.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  let shown = null; // {kind, date, lang} of the report on the page

  const query = (format) => new URLSearchParams({ period: $('kind').value, date: $('date').value, format, lang: LX.lang() });
  const yesterday = () => {
    const d = new Date(Date.now() - 86400000);
    return d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') + '-' + String(d.getDate()).padStart(2, '0');
  };

  async function show() {
    $('report-error').textContent = '';
    $('report-status').textContent = LX.t('loading');
    try {
      const html = await (await LX.blob('/api/reports?' + query('fragment'))).text();
      // the fragment is the gateway's own, its every text escaped by the server's template
      $('report').innerHTML = html;
      LXCharts.drawAll($('report'), { dpr: 2 });
      shown = { kind: $('kind').value, date: $('date').value, lang: LX.lang() };
      history.replaceState(null, '', location.pathname + '?' + new URLSearchParams({ period: shown.kind, date: shown.date }));
    } catch (err) {
      $('report-error').textContent = LX.t('error') + ': ' + err.message;
    } finally {
      $('report-status').textContent = '';
    }
  }

  async function download(format, button) {
    $('report-error').textContent = '';
    button.disabled = true;
    try {
      const b = await LX.blob('/api/reports?' + query(format));
      const a = LX.el('a', { href: URL.createObjectURL(b), download: $('kind').value + '-' + $('date').value + '.' + format });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 60000);
    } catch (err) {
      $('report-error').textContent = LX.t('error') + ': ' + err.message;
    } finally {
      button.disabled = false;
    }
  }

  async function start() {
    $('login').hidden = true;
    $('main').hidden = false;
    $('logout').hidden = false;
    $('kind').value = ['daily', 'weekly', 'monthly'].includes(params.get('period')) ? params.get('period') : 'daily';
    $('date').value = params.get('date') || yesterday();
    await show();
  }

  $('report-form').onsubmit = (e) => { e.preventDefault(); show(); };
  $('print').onclick = () => window.print();
  document.querySelectorAll('button.download').forEach((b) => { b.onclick = () => download(b.dataset.format, b); });
  $('lang').onclick = () => { LX.toggleLang(); if (shown) show(); };
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
