import { UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { LINK_NAME_PATTERN } from '../profile/schema.js';
import { ansiPaint, changeLines, noPaint, screenLines, wantColour, type PrintedKeys } from '../status/screen.js';
import { FullScreen } from '../status/terminal.js';
import { viewChangeKey, type WatchView } from '../status/view.js';
import { checkStateDir, watchStatus, type ControlAddress } from '../status/watch.js';
import { parseTarget } from './bridge.js';
import { checkTlsClientFiles, tlsClientFrom } from './tls-client-flags.js';

/** How long a stopped watch may take to end by itself before it is made to. */
const EXIT_GRACE_MS = 1000;

export interface WatchFlags extends Record<string, unknown> {
  stateDir: string;
  json?: boolean;
  /** false with --no-color. */
  color: boolean;
  control: string[];
  sysfsNet?: string;
}

function controlAddress(text: string): ControlAddress {
  try {
    return parseTarget(text);
  } catch (err) {
    throw new UsageError(`--control: ${(err as Error).message.replace(/^HOST:PORT: /, '')}`);
  }
}

/**
 * `laplink status --watch`: a full screen on a terminal, else one plain line per change, or with
 * --json one JSON object per change. Leaves with status 0 on q, Ctrl-C, SIGINT, SIGTERM or SIGHUP:
 * being asked to stop is this viewer's normal end.
 */
export async function runWatch(name: string | undefined, flags: WatchFlags): Promise<number> {
  if (name !== undefined && !LINK_NAME_PATTERN.test(name)) throw new UsageError(`status: "${name}" is not a link name (allowed: 1-32 of a-z 0-9 _ -, starting with a letter or digit)`);
  const tls = tlsClientFrom(flags, 'control-tls');
  if (tls && flags.control.length === 0) throw new UsageError('--control-tls-*: no --control to use them for');
  if (tls) await checkTlsClientFiles(tls, 'control-tls');
  const controls = flags.control.map((text) => ({ ...controlAddress(text), tls }));
  checkStateDir(flags.stateDir); // before the screen is taken, so the error reads like any other
  const controller = new AbortController();
  // a second signal while the first one's stop is under way leaves at once (the screen restored)
  const stop = () => {
    if (!controller.signal.aborted) return controller.abort();
    screen?.restore();
    process.exit(EXIT.OK);
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, stop);

  const mode = flags.json ? 'json' : process.stdout.isTTY ? 'screen' : 'lines';
  const paint = mode === 'screen' && wantColour(process.env, !flags.color) ? ansiPaint : noPaint;
  let refresh = () => {};
  const screen = mode === 'screen' ? new FullScreen(process.stdout, process.stdin.isTTY ? process.stdin : undefined, (key) => (key === 'quit' ? stop() : refresh())) : undefined;
  const printed: PrintedKeys = new Map();
  let lastKey: string | undefined;
  let current: WatchView | undefined;
  const onView = (view: WatchView) => {
    current = view;
    if (screen) return screen.draw(screenLines(view, paint, process.stdout.columns || 80));
    if (mode === 'json') {
      const key = viewChangeKey(view);
      if (key === lastKey) return;
      lastKey = key;
      process.stdout.write(`${JSON.stringify(view)}\n`);
      return;
    }
    for (const line of changeLines(view, printed)) process.stdout.write(`${line}\n`);
  };
  const redraw = () => current && onView(current);
  try {
    screen?.enter();
    process.stdout.on('resize', redraw);
    const watch = watchStatus({ stateDir: flags.stateDir, name, sysfsRoot: flags.sysfsNet, controls, signal: controller.signal, onView });
    refresh = watch.refresh;
    await watch.done;
  } finally {
    screen?.restore();
    process.stdout.off('resize', redraw);
    for (const s of signals) process.off(s, stop);
  }
  // Asked to stop, the viewer leaves even if a file watcher closed mid-scan left a handle open (the
  // process would then never end by itself); the timer is unref'd, so it costs nothing otherwise.
  setTimeout(() => process.exit(), EXIT_GRACE_MS).unref();
  return EXIT.OK;
}
