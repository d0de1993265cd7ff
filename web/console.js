// A bridge port's console: xterm.js (served by laplink, no CDN) on one WebSocket. Binary frames are
// the port's bytes both ways; text frames are JSON: the server's role/line/state news and our
// requests (take over, speed, BREAK). The server decides who writes: a read-only page's keys are
// not even sent.
import { Terminal } from '/vendor/xterm.mjs';
import { FitAddon } from '/vendor/addon-fit.mjs';

const SPEEDS = [300, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600];
const $ = (id) => document.getElementById(id);
const port = new URLSearchParams(location.search).get('port') ?? '';
$('port').textContent = port;
document.title = `${port} · laplink console`;

const term = new Terminal({ convertEol: false, cursorBlink: true, scrollback: 5000, fontSize: 14, fontFamily: 'ui-monospace, "DejaVu Sans Mono", monospace' });
const fit = new FitAddon();
term.loadAddon(fit);
term.open($('terminal'));
fit.fit();
addEventListener('resize', () => fit.fit());
// for tests and the bench: how many bytes the terminal was given, a running checksum of them, and a
// hook called on each arrival (the bench's echo timer)
window.laplink = { received: 0, sum: 0, role: undefined, term };

for (const s of SPEEDS) $('speed').append(new Option(String(s), String(s)));
let role;
let canSetLine = false;
let mayWrite = true;
let writer;
const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/console?port=${encodeURIComponent(port)}`);
ws.binaryType = 'arraybuffer';
const encoder = new TextEncoder();

function setRole(r, by) {
  role = r;
  window.laplink.role = r;
  $('role').textContent = r === 'writer' ? 'you write' : writer ? `read-only (${writer} writes)` : 'read-only';
  $('role').className = `role ${r}`;
  $('take').hidden = r === 'writer' || !mayWrite;
  $('speed').disabled = $('break').disabled = r !== 'writer' || !canSetLine;
  if (by) $('notice').textContent = `${by} took over`;
}

ws.onmessage = (e) => {
  if (typeof e.data !== 'string') {
    const bytes = new Uint8Array(e.data);
    const l = window.laplink;
    l.received += bytes.length;
    let sum = l.sum;
    for (const b of bytes) sum = (Math.imul(sum, 31) + b) >>> 0;
    l.sum = sum;
    l.onReceive?.();
    term.write(bytes);
    return;
  }
  const m = JSON.parse(e.data);
  if (m.type === 'hello') {
    canSetLine = m.canSetLine;
    mayWrite = m.write !== 'never';
    if (m.user) $('port').textContent = `${port} · ${m.user}`;
    $('state').textContent = m.state;
    if (m.speed) $('speed').value = String(m.speed);
    if (!canSetLine) $('speed').title = $('break').title = `the port speaks ${m.protocol}: line settings need protocol rfc2217`;
    setRole(m.role);
  } else if (m.type === 'role') setRole(m.role, m.by);
  else if (m.type === 'state') $('state').textContent = m.state;
  else if (m.type === 'line') $('speed').value = String(m.speed);
  else if (m.type === 'viewers') {
    $('viewers').textContent = `${m.viewers} page${m.viewers === 1 ? '' : 's'} open`;
    writer = m.writer;
    if (role) setRole(role);
  }
  else if (m.type === 'skipped') term.write(`\r\n\x1b[33m[… ${m.bytes} bytes skipped: this page fell behind]\x1b[0m\r\n`);
  else if (m.type === 'notice' || m.type === 'error') $('notice').textContent = m.message;
};
ws.onclose = (e) => {
  // 4001: this login ended (its user was removed or its password changed): log in again
  if (e.code === 4001) return void location.assign('/login.html');
  $('state').textContent = `disconnected${e.reason ? `: ${e.reason}` : ''}`;
  $('speed').disabled = $('break').disabled = true;
};

term.onData((data) => {
  if (role === 'writer' && ws.readyState === WebSocket.OPEN) ws.send(encoder.encode(data));
});
term.onBinary((data) => {
  if (role === 'writer' && ws.readyState === WebSocket.OPEN) ws.send(Uint8Array.from(data, (c) => c.charCodeAt(0)));
});
$('take').onclick = () => ws.send(JSON.stringify({ type: 'take' }));
$('break').onclick = () => ws.send(JSON.stringify({ type: 'break' }));
$('speed').onchange = () => ws.send(JSON.stringify({ type: 'speed', speed: Number($('speed').value) }));
term.focus();
