/** Speeds termios knows (Linux `Bxxx` constants): the only ones pppd, stty and a profile accept, and so the only ones a bridge port takes. */
export const TERMIOS_SPEEDS = [
  50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400, 57600, 115200,
  230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000, 2500000, 3000000,
  3500000, 4000000,
] as const;

export function isTermiosSpeed(n: number): boolean {
  return (TERMIOS_SPEEDS as readonly number[]).includes(n);
}
