#!/bin/sh
# STAND-IN for pppd, used only because this machine's kernel has no PPP support (the real pppd
# exits 4 before negotiating anything). Like pppd it opens the tty named in its argv; instead of
# PPP it sends back every byte it reads, so a test sees the caller's bytes reach "pppd" and its
# answers come back. A shell and cat start in a few ms, which 1,000-call tests need.
#   ECHO_PPPD_COPY   file: also append every byte read there (what pppd received)
#   ECHO_PPPD_BYTES  exit after echoing this many bytes (pppd ending the call itself)
#   ECHO_PPPD_LINGER seconds: with ECHO_PPPD_BYTES, close the tty, say "Connection terminated."
#                    and exit only this much later (pppd waiting for its ip-down scripts)
#   ECHO_PPPD_ARGV   file: append the argv, one line per start
#   ECHO_PPPD_FLUSH  seconds: like pppd setting up its tty (TCSAFLUSH), take that long to start,
#                    then discard what the tty holds, and only then say "Using interface"
#   ECHO_PPPD_STALL  directory: the first start to create it holds the tty open and never reads
#                    it (a pppd stuck), the others echo as usual
dev=
for a in "$@"; do case $a in /dev/*) dev=$a ;; esac; done
[ -n "$dev" ] || { echo "echo-pppd: no device in argv: $*" >&2; exit 2; }
[ -z "$ECHO_PPPD_ARGV" ] || echo "$*" >>"$ECHO_PPPD_ARGV"
if [ -n "$ECHO_PPPD_FLUSH" ]; then
  sleep "$ECHO_PPPD_FLUSH"
  python3 -c 'import sys, termios; f = open(sys.argv[1], "rb", buffering=0); termios.tcflush(f, termios.TCIFLUSH)' "$dev"
fi
echo "Using interface ppp0"
echo "Connect: ppp0 <--> $dev"
if [ -n "$ECHO_PPPD_STALL" ] && mkdir "$ECHO_PPPD_STALL" 2>/dev/null; then exec sleep 600 <"$dev"; fi
if [ -n "$ECHO_PPPD_BYTES" ]; then
  [ -n "$ECHO_PPPD_LINGER" ] || exec head -c "$ECHO_PPPD_BYTES" <"$dev" >"$dev"
  # like pppd after LCP ended the link: the tty closed, then waiting for its ip-down scripts
  head -c "$ECHO_PPPD_BYTES" <"$dev" >"$dev"
  echo "Connection terminated."
  exec sleep "$ECHO_PPPD_LINGER"
fi
if [ -n "$ECHO_PPPD_COPY" ]; then exec tee -a "$ECHO_PPPD_COPY" <"$dev" >"$dev"; fi
exec cat <"$dev" >"$dev"
