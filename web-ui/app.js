// The panel: hash routes (#/, #/sky, ...) mount one view at a time; the
// live stream feeds them all. No build step: plain modules the browser runs.
import { connect, refreshSession, login, logout, session } from './api.js';
import { applyStatic, currentLang, onLangChange, setLang, t } from './i18n.js';
import * as dashboard from './dashboard.js';
import * as sky from './sky.js';
import * as antenna from './antenna.js';
import * as events from './events.js';
import * as clients from './clients.js';
import * as settings from './settings.js';

const views = { '': dashboard, sky, antenna, events, clients, settings };
const view = document.getElementById('view');
let unmount = null;

function route() {
  const name = location.hash.replace(/^#\/?/, '');
  const v = views[name] ?? dashboard;
  if (typeof unmount === 'function') unmount();
  document.querySelectorAll('#nav a').forEach((a) => a.classList.toggle('active', a.getAttribute('href') === `#/${name}`));
  unmount = v.mount(view);
}

function whoButton() {
  const b = document.getElementById('who');
  b.textContent = session.authenticated ? `${session.user} · ${t('login.logout')}` : t('login.button');
}

function theme(next) {
  const pref = next || localStorage.getItem('theme') || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
  document.documentElement.dataset.theme = pref;
  if (next) localStorage.setItem('theme', next);
}

function langButton() {
  document.getElementById('lang').textContent = currentLang() === 'es' ? 'EN' : 'ES';
}

async function start() {
  theme();
  applyStatic();
  langButton();
  onLangChange(() => { langButton(); whoButton(); route(); });
  document.getElementById('lang').addEventListener('click', () => setLang(currentLang() === 'es' ? 'en' : 'es'));
  document.getElementById('theme').addEventListener('click', () => theme(document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark'));
  const dialog = document.getElementById('login-dialog');
  const err = document.getElementById('login-error');
  document.getElementById('who').addEventListener('click', async () => {
    if (session.authenticated) { await logout().catch(() => {}); whoButton(); route(); return; }
    err.textContent = '';
    dialog.showModal();
  });
  document.getElementById('login-cancel').addEventListener('click', () => dialog.close());
  document.getElementById('login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    try {
      await login(f.get('user'), f.get('password'));
      dialog.close();
      e.target.reset();
      whoButton();
      route();
    } catch (x) {
      err.textContent = x.status === 401 ? t('login.wrong') : x.message;
    }
  });
  document.addEventListener('session', () => { whoButton(); });
  try { await refreshSession(); } catch (e) { console.warn('session', e); }
  whoButton();
  const dot = document.getElementById('live');
  connect((up) => dot.classList.toggle('on', up));
  window.addEventListener('hashchange', route);
  route();
}

start();
