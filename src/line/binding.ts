/**
 * The one place that touches serialport's native binding. We use it only to open and configure a
 * tty (raw termios, custom speeds, modem lines); the bytes then move through a libuv tty stream:
 * measured on pty pairs, that path moves pty->TCP at about three times the rate of serialport's own
 * stream for a quarter of the CPU per byte, and serialport's poller spins a core after a write met
 * EAGAIN. The binding is a transitive dependency of the pinned `serialport` 13, so keep every use
 * behind these few functions.
 */
import { LinuxBinding, type LinuxPortBinding } from '@serialport/bindings-cpp';

export type Parity = 'none' | 'even' | 'odd';

export interface OpenTtyOptions {
  path: string;
  speed: number;
  dataBits: 5 | 6 | 7 | 8;
  parity: Parity;
  stopBits: 1 | 2;
  rtscts: boolean;
  xonxoff: boolean;
  hupcl: boolean;
}

export interface ModemStatus {
  cts: boolean;
  dsr: boolean;
  dcd: boolean;
}

export interface OpenTty {
  readonly fd: number;
  setSpeed(speed: number): Promise<void>;
  setModem(lines: { dtr?: boolean; rts?: boolean; brk?: boolean }): Promise<void>;
  getModem(): Promise<ModemStatus>;
  /** Discards queued input and output (tcflush TCIOFLUSH). */
  purge(): Promise<void>;
  close(): Promise<void>;
}

export async function openTty(o: OpenTtyOptions): Promise<OpenTty> {
  const port: LinuxPortBinding = await LinuxBinding.open({
    path: o.path,
    baudRate: o.speed,
    dataBits: o.dataBits,
    parity: o.parity,
    stopBits: o.stopBits,
    rtscts: o.rtscts,
    xon: o.xonxoff,
    xoff: o.xonxoff,
    hupcl: o.hupcl,
    lock: false, // TIOCEXCL would make libuv's re-open of the slave by name fail, and writes then spin on EAGAIN
  });
  const fd = port.fd;
  if (fd === null) throw new Error(`${o.path}: binding returned no fd`);
  return {
    fd,
    setSpeed: (speed) => port.update({ baudRate: speed }),
    setModem: (lines) => port.set(lines),
    getModem: async () => {
      const s = await port.get();
      return { cts: s.cts, dsr: s.dsr, dcd: s.dcd };
    },
    purge: () => port.flush(),
    close: async () => {
      if (port.isOpen) await port.close();
    },
  };
}
