import { rfc2217Target } from '../codec-split.js';
import type { FuzzTarget } from '../target.js';

export const target: FuzzTarget = rfc2217Target;
