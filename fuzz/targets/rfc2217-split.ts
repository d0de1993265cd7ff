import type { FuzzTarget } from '../target.js';
import { rfc2217Target } from './telnet-split.js';

export const target: FuzzTarget = rfc2217Target;
