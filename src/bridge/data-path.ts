/**
 * The one line a bridge logs at start saying how its bytes move: through the native pump (and the
 * file it came from, so an admin sees whether the package's prebuilt or a local build is in use) or
 * in JavaScript, and why. A bridge that is slower than expected is explained by this line.
 */
import { addonPath, addonProblem, addonTarget } from '../native/addon.js';
import { pumpAvailable } from '../native/pump.js';
import { nativeTlsProblem } from '../tls/native-direct.js';

/** `turnedOff`: how the user switched the pump off (a flag or config key), or undefined when it is wanted. */
export function dataPathLine(turnedOff?: string): string {
  if (turnedOff) return `data path: JavaScript (native pump turned off by ${turnedOff})`;
  if (pumpAvailable) {
    const tlsProblem = nativeTlsProblem();
    const tls = tlsProblem ? `; TLS in Node (no native TLS: ${tlsProblem})` : ', TLS terminated in it too';
    return `data path: native pump ${addonPath} for a lone raw client, JavaScript for the rest${tls}`;
  }
  return `data path: JavaScript (no native pump for ${addonTarget}: ${addonProblem})`;
}
