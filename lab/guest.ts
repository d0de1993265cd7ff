import { execa, type ResultPromise } from 'execa';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { LabError } from './lab-error.js';

export const QEMU = '/usr/bin/qemu-system-x86_64';

export interface GuestOptions {
  name: string;
  vmlinux: string;
  initrd: string;
  /** Host path of the shell script the guest runs (the host's / is the guest's lower root). */
  script: string;
  /** Where the guest's console (ttyS1) goes. */
  consoleFile: string;
  /** true: ttyS0 is a host pty (the cable); false: no cable. */
  cable: boolean;
  /**
   * A second cable on ttyS2, a host pty too (a server with two serial ports). Its own IRQ 5, given
   * to the kernel by qemu's ACPI table: the PC default for COM3, IRQ 4, is COM1's.
   */
  cable2?: boolean;
  /** Scenario 5: user networking where only guestfwd 10.0.2.100:port reaches host 127.0.0.1:hostPort. */
  guestfwd?: { port: number; hostPort: number };
  /** User networking (restricted) where host 127.0.0.1:hostPort reaches the guest's guestPort (10.0.2.15). */
  hostfwd?: { guestPort: number; hostPort: number };
  /**
   * ttyS2 (and ttyS3 with lines: 2) each a TCP client of host 127.0.0.1:port, as an emulator's
   * `-serial tcp:` COM port is (reconnecting every second while nothing answers): one connection
   * per port. Not with cable2, which is ttyS2 too.
   */
  dialTcp?: { port: number; lines: 1 | 2 };
  memoryMiB?: number;
  /**
   * Run qemu at this nice value (root only; negative = ahead of the host's other work). The link
   * bench measures the cable, not the host: a guest woken late by other processes stalls the line.
   */
  nice?: number;
}

/** One running qemu guest; killed by PID on stop(), never by name. */
export class Guest {
  readonly name: string;
  readonly consoleFile: string;
  /** Host pty path of the guest's ttyS0, when it has a cable. */
  pty: string | undefined;
  /** Host pty path of the guest's ttyS2, when it has a second cable. */
  pty2: string | undefined;
  private readonly proc: ResultPromise;
  private exitCode: number | null | undefined;
  private stdoutText = '';
  readonly exited: Promise<void>;

  private constructor(opts: GuestOptions, proc: ResultPromise) {
    this.name = opts.name;
    this.consoleFile = opts.consoleFile;
    this.proc = proc;
    this.exited = proc.then(
      (r) => { this.exitCode = r.exitCode ?? null; },
      (e: { exitCode?: number }) => { this.exitCode = e.exitCode ?? null; },
    );
    proc.stdout?.on('data', (b: Buffer) => { this.stdoutText += b.toString('latin1'); });
  }

  static qemuArgs(o: GuestOptions): string[] {
    const args = [
      '-nodefaults', '-display', 'none', '-no-reboot', '-m', String(o.memoryMiB ?? 256), '-accel', 'tcg',
      '-kernel', o.vmlinux, '-initrd', o.initrd,
      // no_timer_check: on a starved TCG vCPU the kernel's IO-APIC timer probe can fail and panic
      // ("IO-APIC + timer doesn't work!", seen on this busy 2-core host); the timer works, the probe is just too strict
      '-append', `console=ttyS1 quiet panic=-1 no_timer_check lab.script=${o.script}`,
    ];
    // ttyS0 first (the cable), ttyS1 second (the console).
    if (o.cable) args.push('-chardev', 'pty,id=line', '-serial', 'chardev:line');
    else args.push('-serial', 'null');
    args.push('-chardev', `file,id=con,path=${o.consoleFile}`, '-serial', 'chardev:con');
    if (o.cable2) args.push('-chardev', 'pty,id=line2', '-device', 'isa-serial,chardev=line2,index=2,iobase=0x3e8,irq=5');
    else if (o.dialTcp) {
      // COM3 and COM4 at their PC addresses, each with an IRQ of its own (the PC default shares COM1's and COM2's)
      const ports = [{ index: 2, iobase: '0x3e8', irq: 5 }, { index: 3, iobase: '0x2e8', irq: 7 }].slice(0, o.dialTcp.lines);
      for (const p of ports) {
        args.push('-chardev', `socket,id=dial${p.index},host=127.0.0.1,port=${o.dialTcp.port},reconnect=1`,
          '-device', `isa-serial,chardev=dial${p.index},index=${p.index},iobase=${p.iobase},irq=${p.irq}`);
      }
    }
    args.push('-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap');
    if (o.guestfwd || o.hostfwd) {
      // restrict=on isolates the guest; the forwards named here are the only ways in or out
      // cmd: (a socat per guest connection), not tcp:, whose one host connection qemu opens at boot
      // and shares among every guest connection: a TLS session would then be timed from boot, and
      // a second guest connection's bytes would land in the first one's stream
      const guestfwd = o.guestfwd ? `,guestfwd=tcp:10.0.2.100:${o.guestfwd.port}-cmd:socat STDIO TCP:127.0.0.1:${o.guestfwd.hostPort}` : '';
      const hostfwd = o.hostfwd ? `,hostfwd=tcp:127.0.0.1:${o.hostfwd.hostPort}-:${o.hostfwd.guestPort}` : '';
      args.push('-netdev', `user,id=n0,restrict=on${guestfwd}${hostfwd}`, '-device', 'virtio-net-pci,netdev=n0');
    }
    return args;
  }

  static async start(o: GuestOptions): Promise<Guest> {
    if (!existsSync(QEMU)) throw new LabError(`${QEMU} is missing: install qemu-system-x86`);
    const niced = o.nice !== undefined && process.getuid?.() === 0 && existsSync('/usr/bin/nice');
    const [cmd, ...args] = niced ? ['/usr/bin/nice', '-n', String(o.nice), QEMU, ...Guest.qemuArgs(o)] : [QEMU, ...Guest.qemuArgs(o)];
    const proc = execa(cmd!, args, { reject: false, stdin: 'ignore', stderr: 'pipe', buffer: { stdout: false, stderr: true } });
    const g = new Guest(o, proc);
    if (o.cable) {
      // qemu names the pty on stdout as soon as the chardev exists, before the guest runs.
      const deadline = Date.now() + 15_000;
      for (;;) {
        const m = /char device redirected to (\/dev\/pts\/\d+) \(label line\)/.exec(g.stdoutText);
        const m2 = /char device redirected to (\/dev\/pts\/\d+) \(label line2\)/.exec(g.stdoutText);
        if (m && (!o.cable2 || m2)) { g.pty = m[1]; g.pty2 = m2?.[1]; break; }
        if (g.exitCode !== undefined) {
          const r = await proc;
          throw new LabError(`qemu for ${o.name} exited ${g.exitCode}: ${String(r.stderr).trim().split('\n')[0]}`);
        }
        if (Date.now() > deadline) { await g.stop(); throw new LabError(`qemu for ${o.name} named no pty in 15 s`); }
        await Promise.race([delay(20), g.exited]);
      }
    }
    return g;
  }

  async console(): Promise<string> {
    try { return await readFile(this.consoleFile, 'latin1'); } catch { return ''; }
  }

  get running(): boolean { return this.exitCode === undefined; }

  /**
   * Wait until the console shows `pattern` (or a LAB:FAIL line, or qemu exits). Polls the console
   * file; the timeout is a ceiling for a stuck guest, not a sleep.
   */
  async waitFor(pattern: RegExp, timeoutMs: number, what = String(pattern)): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = await this.console();
      const m = pattern.exec(text);
      if (m) return m;
      const fail = /LAB:FAIL (.*)/.exec(text);
      if (fail) throw new LabError(`${this.name}: ${fail[1]!.trim()}`);
      if (!this.running) throw new LabError(`${this.name} powered off before ${what}; console tail:\n${tail(text)}`);
      if (Date.now() > deadline) throw new LabError(`${this.name}: no ${what} within ${timeoutMs / 1000} s; console tail:\n${tail(text)}`);
      await Promise.race([delay(100), this.exited]);
    }
  }

  /** Wait for the guest to power off by itself (its script ended). */
  async waitExit(timeoutMs: number): Promise<void> {
    const t = delay(timeoutMs, undefined, { ref: false }).then(() => 'timeout');
    const r = await Promise.race([this.exited.then(() => 'exit'), t]);
    if (r === 'timeout') { await this.stop(); throw new LabError(`${this.name} did not power off within ${timeoutMs / 1000} s`); }
  }

  /** Kill this qemu by its PID (TERM, then KILL). Safe to call twice. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.proc.kill('SIGTERM');
    const r = await Promise.race([this.exited.then(() => true), delay(3000, undefined, { ref: false }).then(() => false)]);
    if (!r) { this.proc.kill('SIGKILL'); await this.exited; }
  }
}

function tail(text: string, lines = 15): string {
  return text.split('\n').slice(-lines).join('\n');
}
