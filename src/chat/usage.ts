import { USAGE } from './options.js';

/** `laplink chat --help` and `laplink help chat`: chat(8)'s options, one line each. */
export const CHAT_HELP = [
  USAGE,
  '',
  'Runs a chat(8) script over the line on fds 0 and 1 (as pppd hands it to its connect program),',
  'with the options and exit statuses of /usr/sbin/chat.',
  '',
  'Options:',
  '  -e               start with ECHO ON: copy received bytes to stderr',
  '  -E               expand $NAME in strings from the environment',
  '  -v               log the conversation (to syslog, or stderr with -s)',
  '  -V               copy received bytes to stderr as they arrive',
  '  -s               log to stderr',
  '  -S               do not log to syslog',
  '  -t SECONDS       timeout of each expect (default 45, as chat(8)); with --preset: of the whole handshake',
  '  -r FILE          append REPORT lines to FILE',
  '  -T PHONE         the value of \\T in the script',
  '  -U PHONE2        the value of \\U in the script',
  '  -f FILE          read the script from FILE',
  '  --preset NAME    built-in script: dcc-host or dcc-guest (Windows direct cable connection;',
  '                   the guest resends CLIENT every second, every few seconds past -t 46)',
  '  -h, --help       this text',
  '',
  'Exit status: 0 done, 1 bad arguments or script, 2 line error or signal, 3 timeout,',
  '4 and up: the ABORT string that matched (the first is 4).',
].join('\n');
