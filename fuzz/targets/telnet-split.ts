import { telnetTarget } from '../codec-split.js';
import type { FuzzTarget } from '../target.js';

export const target: FuzzTarget = telnetTarget;
