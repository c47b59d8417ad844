// Labels in English and Spanish. The language comes from the browser
// (navigator.languages) unless the user picked one with the switch.
const dict = {
  en: {
    'nav.dashboard': 'Dashboard', 'nav.sky': 'Sky', 'nav.antenna': 'Antenna', 'nav.events': 'Events',
    'nav.clients': 'NTP clients', 'nav.settings': 'Settings',
    'live.title': 'Live stream', 'login.button': 'Log in', 'login.title': 'Log in', 'login.user': 'User',
    'login.password': 'Password', 'login.submit': 'Log in', 'login.wrong': 'Wrong user name or password',
    'login.logout': 'Log out', 'common.cancel': 'Cancel', 'common.unknown': 'unknown',
    'state.locked': 'LOCKED', 'state.holdover': 'HOLDOVER', 'state.acquiring': 'ACQUIRING',
    'state.unsynchronized': 'UNSYNCHRONIZED', 'state.unknown': 'NO DATA',
    'dash.utc': 'UTC', 'dash.local': 'Local time', 'dash.offset': 'UTC offset', 'dash.nextdst': 'Next DST change',
    'dash.nodst': 'none within a year', 'dash.bound': 'Time-error bound', 'dash.pps': 'PPS',
    'dash.jitter': 'jitter', 'dash.offsetclock': 'offset', 'dash.frequency': 'Frequency (ppm)',
    'dash.temperature': 'Temperature (°C)', 'dash.leap': 'Leap second', 'dash.noleap': 'none scheduled',
    'dash.ntp': 'NTP load', 'dash.reqs': 'requests/s', 'dash.clients': 'clients', 'dash.parts': 'Parts',
    'dash.sats': 'Satellites', 'dash.used': 'used', 'dash.visible': 'visible', 'dash.stratum': 'stratum',
    'dash.since': 'since', 'dash.span': 'Span', 'dash.chartnote': 'stored history, then live',
    'sky.title': 'Sky', 'sky.cn0': 'C/N0 per satellite (dB-Hz)', 'sky.threshold': 'threshold',
    'sky.used': 'used', 'sky.unused': 'not used', 'sky.none': 'No satellite positions yet.',
    'ant.title': 'Antenna', 'ant.status': 'Status', 'ant.power': 'Power', 'ant.agc': 'AGC', 'ant.noise': 'Noise',
    'ant.jamming': 'Jamming', 'ant.spoofing': 'Spoofing', 'ant.checklist': 'Checklist', 'ant.conclusion': 'Conclusion',
    'ant.obstruction': 'Obstruction map (C/N0 per cell)', 'ant.survey': 'Survey-in', 'ant.position': 'Position',
    'ant.survey.state': 'State', 'ant.survey.time': 'Duration', 'ant.survey.fixed': 'Fixed position',
    'ant.nofix': 'Longest without a fix (24 h)', 'ant.nofix.none': 'none', 'ant.nofix.ongoing': 'now',
    'ant.obstruction.note': 'last 24 h; the inner ring is 20° elevation',
    'sky.tracks': 'Tracks', 'sky.tracks.off': 'off',
    'ant.c.cable': 'Check the antenna cable is attached at both ends.',
    'ant.c.voltage': 'Detach the cable: measure about 5 V DC on the receiver\'s antenna connector.',
    'ant.c.short': 'With the cable detached from both ends, measure its resistance: centre to shield must be open (no short).',
    'ant.c.placement': 'Place the antenna with open sky: nothing above about 20° elevation (70° from the zenith).',
    'ant.c.othercable': 'Try another cable.',
    'ant.c.sats': 'Satellites in view and used.',
    'ant.k.ok': 'The antenna is powered and sees satellites: nothing to fix.',
    'ant.k.short': 'The receiver sees a SHORT: the cable or the antenna shorts the supply. Check the cable (steps 2-3), then try another cable.',
    'ant.k.open': 'The receiver sees an OPEN circuit: no antenna current. Check the cable is attached, then the 5 V supply, then try another cable.',
    'ant.k.nosats': 'The antenna is powered but few satellites are used: check the placement and the obstruction map.',
    'ant.k.unknown': 'The receiver does not report the antenna state: follow the steps in order.',
    'ant.k.jamming': 'Interference is reported: look for transmitters near the antenna.',
    'ev.title': 'Events', 'ev.kind': 'Kind', 'ev.severity': 'Minimum severity', 'ev.all': 'all', 'ev.time': 'Time (UTC)',
    'ev.details': 'Details', 'ev.csv': 'Export CSV', 'ev.more': 'Older', 'ev.apply': 'Filter',
    'cl.title': 'NTP clients', 'cl.addr': 'Address', 'cl.requests': 'Requests', 'cl.poll': 'Interval',
    'cl.offset': 'Estimated offset', 'cl.last': 'Last seen', 'cl.none': 'No clients yet.',
    'wt.title': 'Head-end watch', 'wt.name': 'Name', 'wt.address': 'Address', 'wt.state': 'State',
    'wt.reasons': 'Reasons', 'wt.last': 'Last seen', 'wt.poll': 'Poll (observed / expected)',
    'wt.offset': 'Offset ± uncertainty', 'wt.learned': '(learned)', 'wt.never': 'never',
    'wt.none': 'No watched clients: add [[ntp.watch]] entries to the configuration.',
    'wt.csv': 'Export CSV', 'wt.hint': 'Click a header to sort, a row for its chart.',
    'wt.chart.offset': 'Offset (client minus server, ms)', 'wt.chart.poll': 'Gap between requests (s)',
    'wr.offset_beyond_tolerance': 'offset beyond tolerance', 'wr.irregular_polling': 'irregular polling',
    'wr.symmetric_active': 'symmetric active mode', 'wr.old_version': 'old NTP version',
    'wr.rate_limited': 'rate limited (KoD)', 'wr.not_seen': 'not seen within 1.5 intervals',
    'wr.never_seen': 'never seen',
    'wm.four_timestamp': 'four timestamps', 'wm.one_way': 'one-way', 'wm.unknown': 'unknown',
    'set.title': 'Settings', 'set.adminonly': 'Settings are for admins: log in.', 'set.save': 'Save',
    'set.saved': 'Saved.', 'set.restart': 'Saved; some changes take effect after a restart.',
    'set.refused': 'Some values were refused; nothing was saved.', 'set.actions': 'Actions',
    'set.jump': 'Accept time jump', 'set.survey': 'Restart survey-in', 'set.setup': 'First visit: set the admin password',
    'set.code': 'Setup code (from the log or the data directory)', 'set.newpw': 'New password (10+ characters)',
  },
  es: {
    'nav.dashboard': 'Panel', 'nav.sky': 'Cielo', 'nav.antenna': 'Antena', 'nav.events': 'Eventos',
    'nav.clients': 'Clientes NTP', 'nav.settings': 'Ajustes',
    'live.title': 'Datos en vivo', 'login.button': 'Entrar', 'login.title': 'Iniciar sesión', 'login.user': 'Usuario',
    'login.password': 'Contraseña', 'login.submit': 'Entrar', 'login.wrong': 'Usuario o contraseña incorrectos',
    'login.logout': 'Salir', 'common.cancel': 'Cancelar', 'common.unknown': 'desconocido',
    'state.locked': 'ENGANCHADO', 'state.holdover': 'RETENCIÓN', 'state.acquiring': 'ADQUIRIENDO',
    'state.unsynchronized': 'SIN SINCRONIZAR', 'state.unknown': 'SIN DATOS',
    'dash.utc': 'UTC', 'dash.local': 'Hora local', 'dash.offset': 'Desfase UTC', 'dash.nextdst': 'Próximo cambio de horario',
    'dash.nodst': 'ninguno en un año', 'dash.bound': 'Cota de error de tiempo', 'dash.pps': 'PPS',
    'dash.jitter': 'fluctuación', 'dash.offsetclock': 'desfase', 'dash.frequency': 'Frecuencia (ppm)',
    'dash.temperature': 'Temperatura (°C)', 'dash.leap': 'Segundo intercalar', 'dash.noleap': 'ninguno previsto',
    'dash.ntp': 'Carga NTP', 'dash.reqs': 'peticiones/s', 'dash.clients': 'clientes', 'dash.parts': 'Componentes',
    'dash.sats': 'Satélites', 'dash.used': 'usados', 'dash.visible': 'visibles', 'dash.stratum': 'estrato',
    'dash.since': 'desde', 'dash.span': 'Intervalo', 'dash.chartnote': 'historial guardado y luego en vivo',
    'sky.title': 'Cielo', 'sky.cn0': 'C/N0 por satélite (dB-Hz)', 'sky.threshold': 'umbral',
    'sky.used': 'usado', 'sky.unused': 'no usado', 'sky.none': 'Aún no hay posiciones de satélites.',
    'ant.title': 'Antena', 'ant.status': 'Estado', 'ant.power': 'Alimentación', 'ant.agc': 'AGC', 'ant.noise': 'Ruido',
    'ant.jamming': 'Interferencia', 'ant.spoofing': 'Suplantación', 'ant.checklist': 'Lista de comprobación', 'ant.conclusion': 'Conclusión',
    'ant.obstruction': 'Mapa de obstrucción (C/N0 por celda)', 'ant.survey': 'Levantamiento', 'ant.position': 'Posición',
    'ant.survey.state': 'Estado', 'ant.survey.time': 'Duración', 'ant.survey.fixed': 'Posición fija',
    'ant.nofix': 'Mayor periodo sin posición (24 h)', 'ant.nofix.none': 'ninguno', 'ant.nofix.ongoing': 'ahora',
    'ant.obstruction.note': 'últimas 24 h; el anillo interior es 20° de elevación',
    'sky.tracks': 'Trayectorias', 'sky.tracks.off': 'no',
    'ant.c.cable': 'Compruebe que el cable de antena está conectado en ambos extremos.',
    'ant.c.voltage': 'Desconecte el cable: mida unos 5 V CC en el conector de antena del receptor.',
    'ant.c.short': 'Con el cable desconectado en ambos extremos, mida su resistencia: entre vivo y malla debe estar abierto (sin cortocircuito).',
    'ant.c.placement': 'Coloque la antena con cielo despejado: nada por encima de unos 20° de elevación (70° desde el cenit).',
    'ant.c.othercable': 'Pruebe con otro cable.',
    'ant.c.sats': 'Satélites visibles y usados.',
    'ant.k.ok': 'La antena está alimentada y ve satélites: nada que corregir.',
    'ant.k.short': 'El receptor detecta un CORTOCIRCUITO: el cable o la antena cortocircuitan la alimentación. Revise el cable (pasos 2-3) y pruebe con otro cable.',
    'ant.k.open': 'El receptor detecta un circuito ABIERTO: no hay corriente de antena. Revise la conexión, luego los 5 V y pruebe con otro cable.',
    'ant.k.nosats': 'La antena está alimentada pero se usan pocos satélites: revise la ubicación y el mapa de obstrucción.',
    'ant.k.unknown': 'El receptor no informa del estado de la antena: siga los pasos en orden.',
    'ant.k.jamming': 'Se detecta interferencia: busque transmisores cerca de la antena.',
    'ev.title': 'Eventos', 'ev.kind': 'Tipo', 'ev.severity': 'Gravedad mínima', 'ev.all': 'todas', 'ev.time': 'Hora (UTC)',
    'ev.details': 'Detalles', 'ev.csv': 'Exportar CSV', 'ev.more': 'Anteriores', 'ev.apply': 'Filtrar',
    'cl.title': 'Clientes NTP', 'cl.addr': 'Dirección', 'cl.requests': 'Peticiones', 'cl.poll': 'Intervalo',
    'cl.offset': 'Desfase estimado', 'cl.last': 'Última vez', 'cl.none': 'Aún no hay clientes.',
    'wt.title': 'Vigilancia de cabecera', 'wt.name': 'Nombre', 'wt.address': 'Dirección', 'wt.state': 'Estado',
    'wt.reasons': 'Motivos', 'wt.last': 'Última vez', 'wt.poll': 'Sondeo (observado / esperado)',
    'wt.offset': 'Desfase ± incertidumbre', 'wt.learned': '(aprendido)', 'wt.never': 'nunca',
    'wt.none': 'No hay clientes vigilados: añada entradas [[ntp.watch]] a la configuración.',
    'wt.csv': 'Exportar CSV', 'wt.hint': 'Pulse una cabecera para ordenar, una fila para su gráfica.',
    'wt.chart.offset': 'Desfase (cliente menos servidor, ms)', 'wt.chart.poll': 'Intervalo entre peticiones (s)',
    'wr.offset_beyond_tolerance': 'desfase fuera de tolerancia', 'wr.irregular_polling': 'sondeo irregular',
    'wr.symmetric_active': 'modo simétrico activo', 'wr.old_version': 'versión NTP antigua',
    'wr.rate_limited': 'limitado por tasa (KoD)', 'wr.not_seen': 'sin verse en 1,5 intervalos',
    'wr.never_seen': 'nunca visto',
    'wm.four_timestamp': 'cuatro marcas de tiempo', 'wm.one_way': 'un sentido', 'wm.unknown': 'desconocido',
    'set.title': 'Ajustes', 'set.adminonly': 'Los ajustes son para administradores: inicie sesión.', 'set.save': 'Guardar',
    'set.saved': 'Guardado.', 'set.restart': 'Guardado; algunos cambios se aplican tras reiniciar.',
    'set.refused': 'Se rechazaron algunos valores; no se guardó nada.', 'set.actions': 'Acciones',
    'set.jump': 'Aceptar salto de hora', 'set.survey': 'Reiniciar levantamiento', 'set.setup': 'Primera visita: fije la contraseña de administrador',
    'set.code': 'Código de instalación (del registro o del directorio de datos)', 'set.newpw': 'Nueva contraseña (10+ caracteres)',
  },
};

function initial() {
  const saved = localStorage.getItem('lang');
  if (saved && dict[saved]) return saved;
  for (const l of navigator.languages || [navigator.language || 'en']) {
    const base = String(l).slice(0, 2).toLowerCase();
    if (dict[base]) return base;
  }
  return 'en';
}

let lang = initial();
const listeners = [];

export function t(key) {
  return dict[lang][key] ?? dict.en[key] ?? key;
}
export function currentLang() { return lang; }
export function onLangChange(f) { listeners.push(f); }
export function setLang(l) {
  if (!dict[l]) return;
  lang = l;
  localStorage.setItem('lang', l);
  applyStatic();
  listeners.forEach((f) => f(l));
}
// Elements with data-i18n get their text; data-i18n-title their tooltip.
export function applyStatic(root = document) {
  document.documentElement.lang = lang;
  root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll('[data-i18n-title]').forEach((el) => { el.title = t(el.dataset.i18nTitle); });
}
