// The xmeet console: a small single-page app over /front/api. Every piece of data is put
// into the page as text (never as HTML), so a name like <img src=x onerror=alert(1)> stays text.
// The console token lives in sessionStorage and travels only in the Authorization header.
'use strict';
(function () {
  const JODIT_VERSION = '4.15.13';
  const I18N = window.XMEET_I18N;
  const app = document.getElementById('app');
  let lang = localStorage.getItem('xmeet.lang') ||
    ((navigator.language || 'en').toLowerCase().startsWith('ru') ? 'ru' : 'en');
  let editor = null;

  const t = (key, ...args) => {
    let s = (I18N[lang] && I18N[lang][key]) || I18N.en[key] || key;
    args.forEach((a, i) => { s = s.replace('{' + i + '}', a); });
    return s;
  };

  // ---- small DOM helpers ------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined) continue;
      e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return e;
  }
  const field = (id, label, input) => [el('label', { for: id, text: label }), input];
  const input = (id, type, value, extra) => el('input', Object.assign({ id, name: id, type, value: value || '' }, extra || {}));
  function page(...children) {
    if (editor) { try { editor.destruct(); } catch (e) { /* gone */ } editor = null; }
    app.replaceChildren(...children);
  }
  const message = () => el('div', { id: 'message', role: 'status' });
  function showError(err) {
    const m = document.getElementById('message');
    if (!m) return;
    m.className = 'error';
    let text = err.message || String(err);
    if (err.details && typeof err.details === 'object') {
      const lines = Object.entries(err.details).filter(([, v]) => v !== null).map(([k, v]) => k + ': ' + (typeof v === 'string' ? v : JSON.stringify(v)));
      if (lines.length) text += '\n' + lines.join('\n');
    }
    m.textContent = text;
  }
  function showOk(text) {
    const m = document.getElementById('message');
    if (m) { m.className = 'ok'; m.textContent = text; }
  }
  const fmt = (iso) => { try { return new Date(iso).toLocaleString(lang === 'ru' ? 'ru-RU' : 'en-GB'); } catch (e) { return iso; } };

  // ---- API --------------------------------------------------------------------------
  const token = () => sessionStorage.getItem('xmeet.token');
  async function api(method, path, body) {
    const headers = { 'Accept': 'application/json', 'Accept-Language': lang };
    if (token()) headers['Authorization'] = 'Bearer ' + token();
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let r;
    try {
      r = await fetch('/front/api' + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'omit' });
    } catch (e) {
      throw { error: 'network', message: t('networkError') };
    }
    if (r.status === 204) return null;
    const data = await r.json().catch(() => ({}));
    if (!r.ok) {
      if (r.status === 401 && path !== '/login' && path !== '/password') { signOut(); throw data; }
      if (r.status === 403 && data.error === 'password_change_required') { location.hash = '#/password'; throw data; }
      throw data;
    }
    return data;
  }

  function signOut() {
    sessionStorage.removeItem('xmeet.token');
    sessionStorage.removeItem('xmeet.login');
    location.hash = '#/login';
    render();
  }

  // ---- chrome -----------------------------------------------------------------------
  function chrome(route) {
    document.documentElement.lang = lang;
    document.title = t('title');
    const signedIn = !!token();
    document.getElementById('nav').hidden = !signedIn || route === 'password';
    document.getElementById('sign-out').hidden = !signedIn;
    document.getElementById('sign-out').textContent = t('signOut');
    document.getElementById('lang-switch').textContent = t('switchTo');
    document.getElementById('who').textContent = signedIn ? (sessionStorage.getItem('xmeet.login') || '') : '';
    for (const [id, key] of [['nav-admins', 'admins'], ['nav-templates', 'templates'], ['nav-audit', 'audit']]) {
      const a = document.getElementById(id);
      a.textContent = t(key);
      a.classList.toggle('active', route === key);
    }
  }
  document.getElementById('lang-switch').addEventListener('click', () => {
    lang = lang === 'ru' ? 'en' : 'ru';
    localStorage.setItem('xmeet.lang', lang);
    render();
  });
  document.getElementById('sign-out').addEventListener('click', signOut);

  // ---- pages ------------------------------------------------------------------------
  function loginPage() {
    const form = el('form', { id: 'login-form', class: 'card narrow' },
      el('h1', { text: t('signIn') }),
      field('login', t('login'), input('login', 'text', '', { autocomplete: 'username', autofocus: true })),
      field('password', t('password'), input('password', 'password', '', { autocomplete: 'current-password' })),
      el('div', { class: 'row' }, el('button', { type: 'submit', class: 'primary', text: t('signInButton') })),
      el('p', { class: 'muted', text: t('firstSignIn') }),
      message());
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        const login = form.login.value.trim();
        const r = await api('POST', '/login', { login, password: form.password.value });
        sessionStorage.setItem('xmeet.token', r.token);
        sessionStorage.setItem('xmeet.login', login);
        location.hash = r.must_change_password ? '#/password' : '#/admins';
      } catch (e) { showError(e); }
    });
    page(form);
  }

  function passwordPage() {
    const form = el('form', { id: 'password-form', class: 'card narrow' },
      el('h1', { text: t('changePassword') }),
      el('p', { class: 'muted', text: t('changePasswordHint') }),
      field('current_password', t('currentPassword'), input('current_password', 'password', '', { autocomplete: 'current-password' })),
      field('new_password', t('newPassword'), input('new_password', 'password', '', { autocomplete: 'new-password' })),
      field('repeat_password', t('repeatPassword'), input('repeat_password', 'password', '', { autocomplete: 'new-password' })),
      el('div', { class: 'row' }, el('button', { type: 'submit', class: 'primary', text: t('savePassword') })),
      message());
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (form.new_password.value !== form.repeat_password.value) { showError({ message: t('passwordsDiffer') }); return; }
      try {
        await api('POST', '/password', { current_password: form.current_password.value, new_password: form.new_password.value });
        // a password change ends every session: sign in again with the new password
        const r = await api('POST', '/login', { login: sessionStorage.getItem('xmeet.login'), password: form.new_password.value });
        sessionStorage.setItem('xmeet.token', r.token);
        location.hash = '#/admins';
      } catch (e) { showError(e); }
    });
    page(form);
  }

  async function adminsPage() {
    const list = await api('GET', '/admins');
    const rows = list.map((a) => el('tr', { 'data-login': a.login },
      el('td', { text: a.login }), el('td', { text: a.display_name }), el('td', { text: a.email }),
      el('td', { class: 'muted', text: fmt(a.updated_at) }),
      el('td', { class: 'actions' },
        el('button', { type: 'button', class: 'secondary', text: t('edit'), onclick: () => { location.hash = '#/admins/' + a.id; } }), ' ',
        el('button', { type: 'button', class: 'danger', text: t('delete'), onclick: async () => {
          if (!confirm(t('confirmDeleteAdmin', a.login))) return;
          try { await api('DELETE', '/admins/' + a.id); render(); } catch (e) { showError(e); }
        } }))));
    page(el('div', { class: 'card' },
      el('h1', { text: t('admins') }),
      el('div', { class: 'row' }, el('button', { type: 'button', id: 'add-admin', class: 'primary', text: t('addUser'), onclick: () => { location.hash = '#/admins/new'; } })),
      el('table', { id: 'admins-table' },
        el('thead', {}, el('tr', {}, el('th', { text: t('login') }), el('th', { text: t('displayName') }), el('th', { text: t('email') }), el('th', { text: t('updated') }), el('th', {}))),
        el('tbody', {}, rows)),
      message()));
  }

  async function adminFormPage(id) {
    const a = id === 'new' ? { login: '', display_name: '', email: '' } : await api('GET', '/admins/' + id);
    const isNew = id === 'new';
    const form = el('form', { id: 'admin-form', class: 'card narrow' },
      el('h1', { text: isNew ? t('newAdmin') : t('editAdmin') }),
      field('admin-login', t('login'), input('admin-login', 'text', a.login)),
      field('admin-name', t('displayName'), input('admin-name', 'text', a.display_name)),
      field('admin-email', t('email'), input('admin-email', 'email', a.email)),
      field('admin-password', isNew ? t('password') : t('passwordKeep'), input('admin-password', 'password', '', { autocomplete: 'new-password' })),
      el('div', { class: 'row' },
        el('button', { type: 'submit', class: 'primary', text: isNew ? t('add') : t('save') }),
        el('button', { type: 'button', class: 'secondary', text: t('cancel'), onclick: () => { location.hash = '#/admins'; } })),
      message());
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = { login: form['admin-login'].value, display_name: form['admin-name'].value, email: form['admin-email'].value };
      if (form['admin-password'].value) body.password = form['admin-password'].value;
      try {
        if (isNew) await api('POST', '/admins', body); else await api('PUT', '/admins/' + id, body);
        location.hash = '#/admins';
      } catch (e) { showError(e); }
    });
    page(form);
  }

  async function templatesPage() {
    const list = await api('GET', '/templates');
    const rows = list.map((tp) => el('tr', { 'data-name': tp.name },
      el('td', { text: tp.name }), el('td', { text: tp.locale }),
      el('td', {}, el('span', { class: tp.active ? 'badge' : 'muted', text: tp.active ? t('active') : t('inactive') })),
      el('td', { text: String(tp.version) }),
      el('td', { class: 'muted', text: fmt(tp.updated_at) + ' · ' + tp.updated_by }),
      el('td', { class: 'actions' },
        el('button', { type: 'button', class: 'secondary', text: t('edit'), onclick: () => { location.hash = '#/templates/' + tp.id; } }), ' ',
        el('button', { type: 'button', class: 'secondary', text: t('history'), onclick: () => { location.hash = '#/templates/' + tp.id + '/history'; } }), ' ',
        el('button', { type: 'button', class: 'danger', text: t('delete'), onclick: async () => {
          if (!confirm(t('confirmDeleteTemplate', tp.name))) return;
          try { await api('DELETE', '/templates/' + tp.id); render(); } catch (e) { showError(e); }
        } }))));
    page(el('div', { class: 'card' },
      el('h1', { text: t('templates') }),
      el('div', { class: 'row' }, el('button', { type: 'button', id: 'create-template', class: 'primary', text: t('createTemplate'), onclick: () => { location.hash = '#/templates/new'; } })),
      el('table', { id: 'templates-table' },
        el('thead', {}, el('tr', {}, el('th', { text: t('name') }), el('th', { text: t('locale') }), el('th', {}), el('th', { text: t('version') }), el('th', { text: t('updated') }), el('th', {}))),
        el('tbody', {}, rows)),
      message()));
  }

  const PLACEHOLDERS = [
    ['conference_link', '<a href="{{conference_link}}">{{ conference_link }}</a>'],
    ['sip_number', '{{ sip_number }}'],
    ['conference_name', '{{ conference_name }}'],
    ['start_at', '{{ start_at }}'],
    ['end_at', '{{ end_at }}'],
    ['access_code', '{% if access_code %}{{ access_code }}{% endif %}'],
  ];

  async function templateFormPage(id) {
    const isNew = id === 'new';
    const tp = isNew ? { name: '', locale: lang, html: '', active: false } : await api('GET', '/templates/' + id);
    const frame = el('iframe', { id: 'preview', class: 'preview', sandbox: '', title: t('preview') });
    const area = el('textarea', { id: 'template-html' });
    area.value = tp.html;
    const insertBar = el('div', { class: 'placeholders', id: 'placeholders' }, el('span', { class: 'muted', text: t('insert') }),
      PLACEHOLDERS.map(([key, snippet]) => el('button', { type: 'button', class: 'secondary', 'data-placeholder': key, text: t('ph_' + key),
        onclick: () => { if (editor) { editor.s.insertHTML(snippet); editor.synchronizeValues(); } } })));
    const form = el('form', { id: 'template-form', class: 'card' },
      el('h1', { text: isNew ? t('newTemplate') : t('editTemplate') }),
      el('div', { class: 'row' },
        el('div', { style: 'flex:2' }, field('template-name', t('name'), input('template-name', 'text', tp.name))),
        el('div', { style: 'flex:1' }, field('template-locale', t('locale'), input('template-locale', 'text', tp.locale, { class: 'short' }))),
        el('label', { for: 'template-active' }, input('template-active', 'checkbox', '', { checked: tp.active }), ' ' + t('active'))),
      insertBar,
      area,
      el('div', { class: 'row' },
        el('button', { type: 'submit', id: 'save-template', class: 'primary', text: t('saveChanges') }),
        isNew ? null : el('button', { type: 'button', class: 'secondary', text: t('history'), onclick: () => { location.hash = '#/templates/' + id + '/history'; } }),
        el('button', { type: 'button', class: 'secondary', text: t('cancel'), onclick: () => { location.hash = '#/templates'; } })),
      message(),
      el('h2', { text: t('preview') }),
      frame);
    page(form);

    editor = window.Jodit.make(area, {
      language: lang,
      height: 360,
      // offline: no Ace, no js-beautify from a CDN
      sourceEditor: 'area',
      beautifyHTML: false,
      askBeforePasteHTML: false,
      askBeforePasteFromWord: false,
      uploader: { insertImageAsBase64URI: true },
      buttons: ['font', 'fontsize', '|', 'bold', 'italic', 'underline', 'superscript', 'subscript', '|', 'ul', 'ol', '|', 'link', 'image', '|', 'source', '|', 'undo', 'redo'],
      buttonsMD: ['font', 'fontsize', 'bold', 'italic', 'underline', 'superscript', 'subscript', 'ul', 'ol', 'link', 'image', 'source'],
      buttonsSM: ['bold', 'italic', 'underline', 'link', 'image', 'source'],
      buttonsXS: ['bold', 'italic', 'source'],
      showXPathInStatusbar: false,
    });

    let timer = null;
    const refresh = async () => {
      try {
        const r = await api('POST', '/preview', { html: currentHtml(), locale: form['template-locale'].value || 'en' });
        frame.srcdoc = r.html;
        const m = document.getElementById('message');
        if (m && m.className === 'error') { m.textContent = ''; m.className = ''; }
      } catch (e) { showError(e); }
    };
    editor.events.on('change', () => { clearTimeout(timer); timer = setTimeout(refresh, 300); });
    refresh();

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = { name: form['template-name'].value, locale: form['template-locale'].value, html: currentHtml(), active: form['template-active'].checked };
      try {
        const saved = isNew ? await api('POST', '/templates', body) : await api('PUT', '/templates/' + id, body);
        await refresh();
        showOk(t('saved') + ' ' + t('version') + ' ' + saved.version);
        if (isNew) { history.replaceState(null, '', '#/templates/' + saved.id); templateFormPage(String(saved.id)).then(() => showOk(t('saved'))); }
      } catch (e) { showError(e); }
    });
  }

  function currentHtml() {
    if (!editor) return '';
    if (editor.getMode() !== window.Jodit.constants.MODE_WYSIWYG) editor.setMode(window.Jodit.constants.MODE_WYSIWYG);
    editor.synchronizeValues();
    return editor.value;
  }

  async function historyPage(id) {
    const [tp, versions] = await Promise.all([api('GET', '/templates/' + id), api('GET', '/templates/' + id + '/history')]);
    const rows = versions.map((v) => el('tr', { 'data-version': String(v.version) },
      el('td', { text: String(v.version) }),
      el('td', { text: fmt(v.saved_at) }), el('td', { text: v.saved_by }),
      el('td', {}, el('pre', { class: 'source', text: v.html })),
      el('td', { class: 'actions' }, el('button', { type: 'button', class: 'secondary', text: t('restore'), onclick: async () => {
        if (!confirm(t('confirmRestore', v.version))) return;
        try { await api('POST', '/templates/' + id + '/history/' + v.version + '/restore'); await historyPage(id); showOk(t('restored', v.version)); } catch (e) { showError(e); }
      } }))));
    page(el('div', { class: 'card' },
      el('h1', {}, t('history') + ': ', el('span', { text: tp.name })),
      el('p', { class: 'muted', text: t('version') + ' ' + tp.version + ' · ' + fmt(tp.updated_at) + ' · ' + tp.updated_by }),
      message(),
      versions.length ? el('table', { id: 'history-table' },
        el('thead', {}, el('tr', {}, el('th', { text: t('version') }), el('th', { text: t('savedAt') }), el('th', { text: t('savedBy') }), el('th', {}), el('th', {}))),
        el('tbody', {}, rows)) : el('p', { class: 'muted', text: t('noHistory') }),
      el('div', { class: 'row' }, el('button', { type: 'button', class: 'secondary', text: t('edit'), onclick: () => { location.hash = '#/templates/' + id; } }))));
  }

  async function auditPage() {
    const entries = await api('GET', '/audit?limit=200');
    page(el('div', { class: 'card' },
      el('h1', { text: t('audit') }),
      el('table', { id: 'audit-table' },
        el('thead', {}, el('tr', {}, el('th', { text: t('when') }), el('th', { text: t('who') }), el('th', { text: t('what') }), el('th', { text: t('target') }), el('th', { text: t('details') }))),
        el('tbody', {}, entries.map((e) => el('tr', {},
          el('td', { text: fmt(e.at) }), el('td', { text: e.actor }), el('td', { text: e.action }),
          el('td', { text: e.target_type + ' ' + e.target_id }),
          el('td', {}, el('pre', { class: 'source', text: JSON.stringify(e.details, null, 1) })))))),
      message()));
  }

  // ---- router -----------------------------------------------------------------------
  async function render() {
    const parts = (location.hash.replace(/^#\/?/, '') || '').split('/').filter(Boolean);
    let route = parts[0] || 'admins';
    if (!token() && route !== 'login') { route = 'login'; history.replaceState(null, '', '#/login'); }
    chrome(route);
    try {
      if (route === 'login') loginPage();
      else if (route === 'password') passwordPage();
      else if (route === 'admins' && parts[1]) await adminFormPage(parts[1]);
      else if (route === 'admins') await adminsPage();
      else if (route === 'templates' && parts[2] === 'history') await historyPage(parts[1]);
      else if (route === 'templates' && parts[1]) await templateFormPage(parts[1]);
      else if (route === 'templates') await templatesPage();
      else if (route === 'audit') await auditPage();
      else { location.hash = '#/admins'; }
    } catch (e) {
      if (!document.getElementById('message')) page(el('div', { class: 'card' }, message()));
      showError(e);
    }
  }
  window.addEventListener('hashchange', render);
  window.XMEET_CONSOLE = { version: JODIT_VERSION };
  render();
})();
