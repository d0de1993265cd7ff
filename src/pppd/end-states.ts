import type { LinkState } from './state.js';

/** The states a link ends in: its supervisor let go on purpose (stopped), or the link is over
 *  (done: a one-shot call ended; failed: retrying cannot help). Nothing runs and nothing will
 *  retry, so a supervisor that is gone is no news there, and a new one may take the link over. */
export const END_STATES: readonly LinkState[] = ['stopped', 'done', 'failed'];

export const isEndState = (state: LinkState): boolean => END_STATES.includes(state);
