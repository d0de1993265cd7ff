// The status page: one WebSocket on which the server pushes every changed view of the links and
// bridge ports (the same view `laplink status --watch` draws). Nothing is polled.
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== undefined && c !== null) e.append(c);
  return e;
}

function bytes(n) {
  if (n === undefined) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) (n /= 1024), i++;
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

function ago(iso) {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d`;
}

function rows(pairs) {
  const dl = el('dl');
  for (const [k, v, cls] of pairs) if (v !== undefined && v !== '') dl.append(el('dt', {}, k), el('dd', { 'data-row': k, ...(cls ? { class: cls } : {}) }, String(v)));
  return dl;
}

function linkCard(l) {
  const state = l.stale ? 'stale' : l.state;
  const c = l.counters;
  return el(
    'div',
    { class: 'card', 'data-link': l.name },
    el('div', { class: 'top' }, el('span', { class: 'name' }, l.name), el('span', { class: `state ${state}`, 'data-state': state }, state)),
    rows([
      ['since', `${ago(l.since)} ago`],
      ['addresses', l.localIp && l.remoteIp ? `${l.localIp} ↔ ${l.remoteIp}` : undefined],
      ['interface', l.iface],
      ['device', l.device],
      ['traffic', c ? `↓ ${bytes(c.rxBytes)}  ↑ ${bytes(c.txBytes)}` : undefined],
      ['rate', c && c.rxRate !== undefined ? `↓ ${bytes(c.rxRate)}/s  ↑ ${bytes(c.txRate)}/s` : undefined],
      ['line', l.lineText, l.lineGrowing ? 'wrong' : undefined],
      ['queue', l.queueText],
      ['next try', l.retryInSeconds !== undefined ? `in ${l.retryInSeconds} s` : undefined],
      ['restarts', l.restarts || undefined],
      ['last exit', l.lastExit ? `${l.lastExit.code} ${l.lastExit.meaning}` : undefined],
    ]),
  );
}

function portCard(b, p, consoles) {
  const host = b.control.replace(/:\d+$/, '');
  const key = `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${p.port}`;
  const card = el(
    'div',
    { class: 'card', 'data-port': key },
    el('div', { class: 'top' }, el('span', { class: 'name' }, p.device || `port ${p.port}`), el('span', { class: `state ${p.enable}` }, p.enable)),
    rows([
      ['port', key],
      ['clients', p.clients.length ? p.clients.join(', ') : 'none'],
      ['device', `in ${bytes(p.deviceIn)}  out ${bytes(p.deviceOut)}`],
      ['rate', p.deviceInRate !== undefined ? `in ${bytes(p.deviceInRate)}/s  out ${bytes(p.deviceOutRate)}/s` : undefined],
      ['network', `in ${bytes(p.tcpIn)}  out ${bytes(p.tcpOut)}`],
      ['tls', p.tls ? 'on' : undefined],
    ]),
  );
  if (consoles.includes(key)) card.append(el('div', { class: 'actions' }, el('a', { class: 'button', href: `/console.html?port=${encodeURIComponent(key)}` }, 'Console')));
  return card;
}

function render(v) {
  const links = $('links');
  links.replaceChildren(...(v.links.length ? v.links.map(linkCard) : [el('p', { class: 'empty' }, v.waitingForDir ? `waiting for ${v.stateDir}` : `no links in ${v.stateDir}`)]));
  if (v.error) links.prepend(el('p', { class: 'wrong' }, v.error));
  const ports = $('ports');
  const cards = [];
  for (const b of v.bridges) {
    if (b.error) cards.push(el('div', { class: 'card' }, el('div', { class: 'top' }, el('span', { class: 'name' }, b.control), el('span', { class: 'state error' }, 'unreachable')), rows([['why', b.error]])));
    for (const p of b.ports) cards.push(portCard(b, p, v.consoles));
  }
  if (cards.length) ports.replaceChildren(...cards);
  const up = v.links.filter((l) => l.state === 'up' && !l.stale).length;
  $('summary').textContent = `${v.links.length} link${v.links.length === 1 ? '' : 's'}, ${up} up · ${cards.length} port${cards.length === 1 ? '' : 's'}`;
}

function connect(delay = 500) {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/status`);
  ws.onopen = () => ($('live').textContent = '● live');
  ws.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    if (msg.type === 'view') render(msg.view);
    delay = 500;
  };
  ws.onclose = (e) => {
    // 4001: this login ended (its user was removed or its password changed)
    if (e.code === 4001) return void location.assign('/login.html');
    $('live').textContent = '○ reconnecting';
    setTimeout(() => connect(Math.min(delay * 2, 10000)), delay);
  };
}
connect();
