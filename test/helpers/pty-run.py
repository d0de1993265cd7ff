#!/usr/bin/env python3
"""Runs a command on a real pseudo-terminal (python3's pty module), for tests of full-screen output.

Usage: pty-run.py COLS ROWS CMD [ARG...]
The command's terminal is COLS x ROWS. Prints "pid N" (the command's pid) on stderr, then relays:
everything the command writes to its terminal goes to our stdout, bytes on our stdin are typed into
its terminal. Exits with the command's status (128 + signal when a signal ended it).
"""
import fcntl
import os
import pty
import select
import struct
import sys
import termios

cols, rows, cmd = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
pid, master = pty.fork()
if pid == 0:
    # the size is set before exec, so the command's first look at its terminal sees it
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
    os.execvp(cmd[0], cmd)

sys.stderr.write(f'pid {pid}\n')
sys.stderr.flush()
inputs = [master, sys.stdin.fileno()]
while True:
    ready, _, _ = select.select(inputs, [], [])
    if master in ready:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: every holder of the terminal's other end has closed it
            data = b''
        if not data:
            break
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    if sys.stdin.fileno() in ready:
        data = os.read(sys.stdin.fileno(), 65536)
        if data:
            os.write(master, data)
        else:
            inputs.remove(sys.stdin.fileno())
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
