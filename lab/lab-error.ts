import { LaplinkError } from '../src/errors.js';

/** The lab could not run (no qemu, kernel fetch failed, a guest never printed its marker). */
export class LabError extends LaplinkError {}
