// Settings (admin only): the configuration as a form, saved with one error
// per refused field; operator actions; first-visit setup.
import { el, get, send, session, refreshSession, HttpError } from './api.js';
import { t } from './i18n.js';

function input(key, value) {
  const attrs = { name: key, id: `cfg-${key}`, 'data-key': key };
  if (typeof value === 'boolean') return el('input', { ...attrs, type: 'checkbox', ...(value ? { checked: '' } : {}) });
  if (typeof value === 'number') return el('input', { ...attrs, type: 'number', step: 'any', value: String(value) });
  if (typeof value === 'string') return el('input', { ...attrs, value });
  return el('input', { ...attrs, value: value == null ? '' : JSON.stringify(value), 'data-json': '1' });
}

function read(inp) {
  if (inp.type === 'checkbox') return inp.checked;
  if (inp.type === 'number') return inp.value === '' ? null : Number(inp.value);
  if (inp.dataset.json) {
    if (inp.value.trim() === '') return null;
    try { return JSON.parse(inp.value); } catch { return inp.value; }
  }
  return inp.value;
}

function setupForm(root) {
  const msg = el('p', { class: 'error', role: 'alert' });
  return el('form', { class: 'card', id: 'setup-form', onsubmit: async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    try {
      await send('POST', '/api/v1/setup', { code: f.get('code'), user: 'admin', password: f.get('password') });
      await refreshSession();
      document.dispatchEvent(new Event('session'));
      mount(root);
    } catch (x) { msg.textContent = x.message; }
  } },
  el('h3', {}, t('set.setup')),
  el('label', {}, t('set.code'), ' ', el('input', { name: 'code', required: '', autocomplete: 'off' })),
  el('label', {}, t('set.newpw'), ' ', el('input', { name: 'password', type: 'password', required: '', minlength: '10', autocomplete: 'new-password' })),
  msg, el('button', { type: 'submit', class: 'primary' }, t('set.save')));
}

async function renderForm(root, note = '') {
  const cfg = await get('/api/v1/config');
  const original = new Map();
  const status = el('p', { id: 'settings-status', role: 'status' }, note);
  const sections = Object.entries(cfg).map(([sec, body]) => el('fieldset', {},
    el('legend', {}, sec),
    Object.entries(body).flatMap(([k, v]) => {
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        return Object.entries(v).map(([k2, v2]) => { const key = `${sec}.${k}.${k2}`; original.set(key, JSON.stringify(v2)); return el('label', {}, key, input(key, v2)); });
      }
      const key = `${sec}.${k}`;
      original.set(key, JSON.stringify(v));
      return [el('label', {}, k, input(key, v))];
    })));
  const form = el('form', { class: 'settings', id: 'settings-form', onsubmit: async (e) => {
    e.preventDefault();
    form.querySelectorAll('.field-error').forEach((x) => x.remove());
    const patch = {};
    for (const inp of form.querySelectorAll('input[data-key]')) {
      const v = read(inp);
      if (JSON.stringify(v) === original.get(inp.dataset.key)) continue;
      const parts = inp.dataset.key.split('.');
      let o = patch;
      parts.slice(0, -1).forEach((p) => { o = o[p] ??= {}; });
      o[parts[parts.length - 1]] = v;
    }
    try {
      const r = await send('PUT', '/api/v1/config', patch);
      // Re-read what was saved; the message stays.
      renderForm(root, r.restart_required ? t('set.restart') : t('set.saved'));
    } catch (x) {
      status.textContent = x instanceof HttpError && x.body?.fields ? t('set.refused') : x.message;
      status.className = 'error';
      for (const [k, m] of Object.entries(x.body?.fields || {})) {
        const inp = form.querySelector(`[data-key="${CSS.escape(k)}"]`);
        (inp?.parentElement || form).append(el('span', { class: 'field-error', 'data-error-for': k }, m));
      }
    }
  } }, sections, el('button', { type: 'submit', class: 'primary', id: 'settings-save' }, t('set.save')), status);
  const actionMsg = el('p', { id: 'action-status', role: 'status' });
  const act = (path) => async () => {
    try { const r = await send('POST', path, {}); actionMsg.textContent = r.message || JSON.stringify(r); }
    catch (x) { actionMsg.textContent = x.message; }
  };
  root.replaceChildren(el('div', { class: 'card' }, el('h3', {}, t('set.title')), form),
    el('div', { class: 'card' }, el('h3', {}, t('set.actions')),
      el('div', { class: 'row' },
        el('button', { type: 'button', onclick: act('/api/v1/actions/accept-time-jump') }, t('set.jump')),
        el('button', { type: 'button', onclick: act('/api/v1/actions/restart-survey') }, t('set.survey'))),
      actionMsg));
}

export function mount(root) {
  if (session.setup_required && !session.authenticated) {
    root.replaceChildren(setupForm(root));
    return null;
  }
  if (!session.authenticated || session.role !== 'admin') {
    root.replaceChildren(el('div', { class: 'card' }, el('p', { id: 'settings-locked' }, t('set.adminonly'))));
    return null;
  }
  renderForm(root).catch((e) => root.replaceChildren(el('p', { class: 'error' }, e.message)));
  return null;
}
