import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkQueueModules } from '../../src/profile/check-module.js';
import { parseProfile } from '../../src/profile/load.js';
import { autoRate, codelTimes, queuePlan } from '../../src/profile/queue.js';
import { ifbName, parseQdiscJson, QueueStatsError } from '../../src/pppd/queue-stats.js';
import { renderProfile } from '../../src/render/render.js';

const base = 'name: q1\nrole: client\ndevice: /dev/ttyS0\nlocalIp: 192.168.7.2\nremoteIp: 192.168.7.1\n';
const parse = (extra: string) => parseProfile(`${base}${extra}`, 'q1.yaml');

describe('queue: the shaper rate from the line', () => {
  it('auto: 8N1 byte rate in bits, less escapes of random data (2 in 256), less 5 % headroom with VJ, 6 % without', () => {
    // 115200 / 10 = 11,520 B/s = 92,160 bit/s; × 0.95 / (258/256) = 86,873.2; × 0.94 … = 85,958.8
    expect(autoRate(115200)).toBe(86873);
    expect(autoRate(38400)).toBe(28957);
    expect(autoRate(115200, false)).toBe(85958);
    expect(autoRate(38400, false)).toBe(28652);
    // without VJ, below the 86 kbit/s the lab measured good at 115200, and well below the 88 it measured bad
    expect(autoRate(115200, false)).toBeLessThan(86000);
  });

  it("fq_codel's target stretches to 1.5 frame times on a slow line (as CAKE's), never below 5 ms", () => {
    // a 1500-byte packet + 8 framing at 85,958 bit/s is 140.35 ms: target 210.5 ms, interval twice that
    expect(codelTimes(85958)).toEqual({ targetUs: 210_522, intervalUs: 421_044 });
    expect(codelTimes(100_000_000)).toEqual({ targetUs: 5000, intervalUs: 100_000 });
  });

  it('profile field: auto by default, off (also YAML 1.1 false), an explicit rate, ingress', () => {
    expect(parse('').queue).toBe('auto');
    expect(queuePlan(parse(''))).toMatchObject({ rate: 86873, overhead: 8, ingress: false });
    expect(queuePlan(parse('vjCompression: false\n'))).toMatchObject({ rate: 85958, overhead: 8, ingress: false });
    expect(queuePlan(parse('speed: 38400\n'))!.rate).toBe(28957);
    expect(queuePlan(parse('queue: off\n'))).toBeUndefined();
    expect(queuePlan({ ...parse(''), queue: parse('queue: false\n').queue })).toBeUndefined();
    expect(queuePlan(parse('queue: { rate: 80000 }\n'))).toMatchObject({ rate: 80000, ingress: false });
    expect(queuePlan(parse('queue: { ingress: true }\n'))).toMatchObject({ rate: 86873, ingress: true, noTimestamps: true });
  });

  it('refuses anything else, naming the field (these values reach a root shell script)', () => {
    expect(() => parse('queue: fast\n')).toThrow(/queue.*not a queue setting \(allowed: auto, off/);
    expect(() => parse('queue: { rate: "80000; reboot" }\n')).toThrow(/queue\.rate.*not a rate/);
    expect(() => parse('queue: { rate: 12.5 }\n')).toThrow(/queue\.rate/);
    expect(() => parse('queue: { rate: 10 }\n')).toThrow(/queue\.rate/);
    expect(() => parse('queue: { rate: 80000, burst: 3 }\n')).toThrow(/burst/);
  });

  it('renders both hooks (mode 0755) with the rate and the stretched CoDel times; none with off', () => {
    const files = renderProfile(parse('queue: { rate: 40000 }\n'), { profilePath: '/etc/laplink/q1.yaml', laplinkArgv: ['/usr/bin/node', '/x/laplink.js'] });
    const up = files.find((f) => f.path === '/etc/ppp/ip-up.d/laplink-q1')!;
    const down = files.find((f) => f.path === '/etc/ppp/ip-down.d/laplink-q1')!;
    expect(up.mode).toBe(0o755);
    expect(down.mode).toBe(0o755);
    expect(up.content).toContain('cake bandwidth 40000bit overhead 8');
    expect(up.content).toContain('htb rate 40000bit ceil 40000bit overhead 8');
    expect(up.content).toContain(`fq_codel target ${codelTimes(40000).targetUs}us interval ${codelTimes(40000).intervalUs}us`);
    expect(up.content).not.toContain('ifb');
    const none = renderProfile(parse('queue: off\n'), { profilePath: '/etc/laplink/q1.yaml', laplinkArgv: ['/usr/bin/node', '/x/laplink.js'] });
    expect(none.some((f) => f.path.includes('/ip-up.d/') || f.path.includes('/ip-down.d/'))).toBe(false);
  });
});

describe('check: the qdisc modules', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'laplink-qmod-'));
    for (const d of ['proc', 'sys/module', 'mods/kernel/net/sched', 'mods/kernel/drivers/net', 'mods/kernel/net/netfilter']) await mkdir(join(dir, d), { recursive: true });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const dirs = () => ({ procDir: join(dir, 'proc'), sysDir: join(dir, 'sys'), modulesDir: join(dir, 'mods') });
  const mod = (name: string, sub = 'kernel/net/sched') => writeFile(join(dir, 'mods', sub, `${name}.ko.xz`), '');

  it('warns when neither sch_cake nor sch_htb is there: the link would run unmanaged', async () => {
    const r = await checkQueueModules({ rate: 85958, ingress: false, noTimestamps: false }, dirs());
    expect(r).toMatchObject({ level: 'warn', what: 'queue' });
    expect(r.detail).toMatch(/no sch_cake and no sch_htb.*set queue: off/);
  });

  it('CAKE when sch_cake is on disk, loaded or built in; else fq_codel under HTB; HTB alone is a warning', async () => {
    await writeFile(join(dir, 'mods/modules.builtin'), 'kernel/net/sched/sch_fq_codel.ko\n');
    await mod('sch_htb');
    expect(await checkQueueModules({ rate: 85958, ingress: false, noTimestamps: false }, dirs())).toEqual({ level: 'ok', what: 'queue', detail: 'fq_codel under HTB shapes what leaves at 85958 bit/s (no sch_cake)' });
    await mod('sch_cake');
    expect((await checkQueueModules({ rate: 85958, ingress: false, noTimestamps: false }, dirs())).detail).toBe('CAKE shapes what leaves at 85958 bit/s');
    await rm(join(dir, 'mods/kernel/net/sched/sch_cake.ko.xz'));
    await rm(join(dir, 'mods/modules.builtin'));
    expect(await checkQueueModules({ rate: 85958, ingress: false, noTimestamps: false }, dirs())).toMatchObject({ level: 'warn', detail: expect.stringMatching(/HTB over a 3-packet FIFO/) });
  });

  it('timestamps off needs nf_tables: said beside the shaper, a warning without it', async () => {
    await writeFile(join(dir, 'proc/modules'), 'sch_cake 40960 0 - Live 0x0\n');
    const without = await checkQueueModules({ rate: 85958, ingress: false, noTimestamps: true }, dirs());
    expect(without).toMatchObject({ level: 'warn', detail: expect.stringMatching(/^CAKE shapes what leaves at 85958 bit\/s; TCP timestamps stay on .*no nf_tables/) });
    await mod('nf_tables', 'kernel/net/netfilter');
    expect(await checkQueueModules({ rate: 85958, ingress: false, noTimestamps: true }, dirs())).toEqual({ level: 'ok', what: 'queue', detail: 'CAKE shapes what leaves at 85958 bit/s, TCP timestamps off through the link' });
  });

  it('ingress: names each missing piece (ifb, sch_ingress, cls_matchall, act_mirred)', async () => {
    await writeFile(join(dir, 'proc/modules'), 'sch_cake 40960 0 - Live 0x0\n');
    await mod('ifb', 'kernel/drivers/net');
    await mod('act_mirred');
    const r = await checkQueueModules({ rate: 85958, ingress: true, noTimestamps: false }, dirs());
    expect(r).toMatchObject({ level: 'warn', detail: expect.stringMatching(/what arrives is not shaped: no sch_ingress, cls_matchall in this kernel/) });
    await mod('sch_ingress');
    await mod('cls_matchall');
    expect((await checkQueueModules({ rate: 85958, ingress: true, noTimestamps: false }, dirs())).detail).toBe('CAKE shapes what leaves at 85958 bit/s, and what arrives through an IFB device');
  });
});

describe('queue stats from tc -s -j qdisc show', () => {
  // tc's JSON for the hook's HTB fallback, as this host's tc printed it
  const htb = '[{"kind":"htb","handle":"1:","root":true,"refcnt":3,"options":{"r2q":10,"default":"0x1","direct_packets_stat":0,"direct_qlen":1000},"bytes":90210,"packets":70,"drops":0,"overlimits":41,"requeues":0,"backlog":4542,"qlen":3},'
    + '{"kind":"fq_codel","handle":"10:","parent":"1:1","options":{"limit":10240},"bytes":90210,"packets":70,"drops":2,"overlimits":0,"requeues":0,"backlog":4542,"qlen":3,"maxpacket":1500,"drop_overlimit":0,"new_flow_count":4,"ecn_mark":1,"new_flows_len":0,"old_flows_len":1}]';

  it('HTB over fq_codel: the pair, the backlog, the leaf\'s drops and marks', () => {
    const s = parseQdiscJson('ppp0', htb);
    expect(s).toMatchObject({ iface: 'ppp0', managedBy: 'htb+fq_codel', shaped: true, backlogBytes: 4542, backlogPackets: 3, drops: 2, marks: 1, sentBytes: 90210 });
    expect(s.rateBits).toBeUndefined();
  });

  it('CAKE, as tc printed it for ppp0 in the lab after a loaded transfer: rate from bytes a second, marks summed over tins', () => {
    const text = readFileSync(join(import.meta.dirname, '../fixtures/tc-qdisc-cake-ppp0.json'), 'utf8');
    const s = parseQdiscJson('ppp0', text);
    expect(s).toMatchObject({ managedBy: 'cake', shaped: true, rateBits: 85952, sentBytes: 5237, sentPackets: 83, backlogBytes: 0, drops: 0, marks: 0 });
    // a tin's ECN marks count
    const marked = JSON.parse(text) as Array<{ tins: Array<{ ecn_mark: number }> }>;
    marked[0]!.tins[1]!.ecn_mark = 7;
    expect(parseQdiscJson('ppp0', JSON.stringify(marked)).marks).toBe(7);
  });

  it("the kernel's default qdisc is not shaped", () => {
    const s = parseQdiscJson('ppp0', '[{"kind":"fq_codel","handle":"0:","root":true,"refcnt":2,"options":{},"bytes":5,"packets":1,"drops":0,"overlimits":0,"requeues":0,"backlog":0,"qlen":0}]');
    expect(s).toMatchObject({ managedBy: 'fq_codel', shaped: false });
  });

  it('errors name the interface and what is wrong', () => {
    expect(() => parseQdiscJson('ppp0', 'Cannot find device "ppp0"')).toThrow(QueueStatsError);
    expect(() => parseQdiscJson('ppp0', '{}')).toThrow(/dev ppp0: not a list of qdiscs/);
    expect(() => parseQdiscJson('ppp0', '[]')).toThrow(/dev ppp0: no root qdisc/);
  });

  it('names the IFB device as the hook does', () => {
    expect(ifbName('ppp0')).toBe('ifb4ppp0');
    expect(ifbName('ppp-long-name12')).toBe('ifb4ppp-long-na');
  });
});

describe('queue: TCP fitted to the line, per route', () => {
  it('rto_min is three full frames of wire time (at least Linux\'s 200 ms); initial window 4; ECN only without VJ', () => {
    // (1500 + 8) bytes × 10 bits / 115200 = 130.9 ms; × 3 = 392.7 → 393 ms; at 38400 1178.1 → 1179 ms
    expect(queuePlan(parse(''))!.routeOptions).toBe('rto_min 393ms initcwnd 4');
    expect(queuePlan(parse('speed: 38400\n'))!.routeOptions).toBe('rto_min 1179ms initcwnd 4');
    expect(queuePlan(parse('speed: 4000000\n'))!.routeOptions).toBe('rto_min 200ms initcwnd 4');
    expect(queuePlan(parse('vjCompression: false\n'))!.routeOptions).toBe('features ecn rto_min 393ms initcwnd 4');
  });

  it('timestamps off through the link exactly when VJ compresses headers', () => {
    expect(queuePlan(parse(''))!.noTimestamps).toBe(true);
    expect(queuePlan(parse('vjCompression: false\n'))!.noTimestamps).toBe(false);
  });
});
