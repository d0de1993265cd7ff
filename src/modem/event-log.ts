import type { EngineEvent } from './engine.js';

/** The log line for what the modem heard or said (`<- ATZ`, `-> OK`, `peer dialled 5551234`), if any. */
export function eventLogLine(e: EngineEvent): string | undefined {
  switch (e.type) {
    case 'command':
      return `<- ${e.text}`;
    case 'reply':
      return `-> ${e.text}`;
    case 'dialled':
      return `peer dialled ${e.number}${e.stayInCommandMode ? ' (";": stays in command mode)' : ''}`;
    case 'escaped':
      return 'escaped to command mode (+++)';
    default:
      return undefined;
  }
}
