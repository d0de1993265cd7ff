import { closeSync, createReadStream, createWriteStream, fstatSync, openSync, readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { isatty, ReadStream, WriteStream } from 'node:tty';

// Loaded by pppd's connect programs (`laplink chat`, `laplink modem answer`): node: builtins only.

/** The line a connect program got from pppd on fds 0 and 1, and how to let go of it. */
export interface ConnectLine {
  stream: Duplex;
  close(): void;
}

/**
 * The line pppd gives its connect program: fds 0 and 1, the same tty. One tty.ReadStream serves
 * both directions — libuv re-opens the tty by name for it, so the O_NONBLOCK it sets lands on our
 * own open file description, never on the one pppd shares with us; termios is left alone (no
 * setRawMode). A socket on fd 0 is used as it is; other fds (pipes, files) are read and written
 * through the fs thread pool, which never changes their flags.
 */
export function openLine(): ConnectLine {
  if (isatty(0)) {
    const tty = new ReadStream(0, { highWaterMark: 64 * 1024 } as never);
    // `<tty >tty` (a script tried by hand): fd 0 is open read-only, so the handle libuv reopens from
    // it cannot write. Write through fd 1's own tty handle then, as chat writes to fd 1.
    const writer = isatty(1) && openedReadOnly(0) ? new WriteStream(1) : undefined;
    writer?.on('error', () => undefined); // a write failure reaches the runner through its callback
    const stream = writer ? Duplex.from({ readable: tty, writable: writer }) : tty;
    if (writer) stream.on('error', () => undefined);
    return {
      stream,
      close: () => {
        if (writer) stream.destroy(), writer.destroy();
        tty.destroy();
        // Node restores the startup termios of tty fds 0-2 at exit and aborts the process if that
        // fails, as it does on a hung-up line. We never changed termios, so point our fds 0 and 1 at
        // /dev/null (libuv never closes stdio fds itself; open() takes the lowest free fd, and a
        // free fd 0/1 would break any later spawn). pppd keeps its own descriptor of the line.
        for (const [fd, mode] of [[0, 'r'], [1, 'w']] as const) {
          try {
            closeSync(fd);
          } catch {
            // already closed
          }
          const got = openSync('/dev/null', mode);
          if (got !== fd) closeSync(got);
        }
      },
    };
  }
  if (fstatSync(0).isSocket()) {
    const sock = new Socket({ fd: 0, readable: true, writable: true });
    // A peer gone mid-answer fails the pending write with EPIPE after the run has let go of the
    // socket: the run saw its own failure through the write callback; this must not crash us.
    sock.on('error', () => undefined);
    return { stream: sock, close: () => sock.destroy() };
  }
  const input = createReadStream('', { fd: 0, autoClose: false, highWaterMark: 64 * 1024 });
  const outputStream = createWriteStream('', { fd: 1, autoClose: false });
  const duplex = Duplex.from({ readable: input, writable: outputStream });
  // Destroying the halves makes the pair emit ERR_STREAM_PREMATURE_CLOSE after the runner has let
  // go of it; the run's own I/O errors were seen by the runner already.
  duplex.on('error', () => undefined);
  return {
    stream: duplex,
    close: () => {
      input.destroy();
      duplex.destroy();
      // A read pending in the thread pool would keep the process alive until the peer writes.
      setTimeout(() => process.exit(), 20).unref();
    },
  };
}

/** Whether fd was opened O_RDONLY (Linux: the flags line of /proc/self/fdinfo, in octal). */
function openedReadOnly(fd: number): boolean {
  try {
    const m = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'));
    return m !== null && (parseInt(m[1]!, 8) & 3) === 0;
  } catch {
    return false;
  }
}
