/**
 * `laplink bridge run CONFIG`: many ports, rotators and a control port from one YAML file, validated
 * with zod through the project's positioned loader (errors `FILE:LINE:COL: field: message`, exit 2).
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { loadYamlFile } from '../yaml/load.js';

// A bare port is naturally written `listen: 4001`, which YAML reads as a number, not a string.
const listen = z.preprocess(
  (v) => (typeof v === 'number' ? String(v) : v),
  z.string().regex(/^(?:\[[^\]]+\]:|[^:]*:)?\d{1,5}$/, 'must be [HOST:]PORT'),
);

const port = z
  .object({
    /** Defaults to the device path (used by rotators, the control port and log lines). */
    name: z.string().min(1).optional(),
    device: z.string().min(1),
    listen: listen.optional(),
    protocol: z.enum(['raw', 'telnet', 'rfc2217']).default('raw'),
    speed: z.number().int().positive().default(115200),
    databits: z.union([z.literal(5), z.literal(6), z.literal(7), z.literal(8)]).default(8),
    parity: z.enum(['none', 'even', 'odd', 'mark', 'space']).default('none'),
    stopbits: z.union([z.literal(1), z.literal(2)]).default(1),
    flow: z.enum(['none', 'rtscts', 'xonxoff']).default('none'),
    local: z.boolean().default(true),
    hupcl: z.boolean().default(false),
    maxConnections: z.number().int().positive().default(1),
    kickOld: z.boolean().default(false),
    slowClient: z.enum(['drop', 'pause']).default('pause'),
    allow: z.array(z.string()).optional(),
    banner: z.string().optional(),
    openString: z.string().optional(),
    closeString: z.string().optional(),
    idleTimeout: z.number().int().nonnegative().default(0),
    nativePump: z.boolean().default(true),
    /** Deliver bytes both ways no faster than a UART at this baud rate (line pacing). */
    pace: z.number().int().min(1).max(4_000_000).optional(),
    trace: z
      .object({
        read: z.string().optional(),
        write: z.string().optional(),
        both: z.string().optional(),
        hex: z.boolean().default(false),
        timestamp: z.boolean().default(false),
      })
      .strict()
      .optional(),
  })
  .strict();

const rotator = z
  .object({
    name: z.string().min(1),
    listen,
    ports: z.array(z.string().min(1)).min(1),
  })
  .strict();

export const bridgeConfigSchema = z
  .object({
    control: listen.optional(),
    lockDir: z.string().optional(),
    lock: z.boolean().default(true),
    ports: z.array(port).min(1),
    rotators: z.array(rotator).default([]),
  })
  .strict()
  .superRefine(crossPortRules);

/**
 * What no single port can see, checked before anything listens: each problem is reported at the
 * field to change, so the loader prints it as FILE:LINE:COL.
 */
function crossPortRules(cfg: { ports: Array<{ name?: string; device: string }>; rotators: Array<{ name: string; ports: string[] }> }, ctx: z.RefinementCtx): void {
  const bad = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  const names = new Map<string, number>();
  const devices = new Map<string, number>();
  cfg.ports.forEach((p, i) => {
    const name = p.name ?? p.device;
    const sameName = names.get(name);
    if (sameName !== undefined) bad(['ports', i, p.name === undefined ? 'device' : 'name'], `name "${name}" is already used by ports[${sameName}] (allowed: a name of its own)`);
    else names.set(name, i);
    // Two ports on one device would fight over its bytes (and its UUCP lock).
    const device = resolve(p.device);
    const sameDevice = devices.get(device);
    if (sameDevice !== undefined) bad(['ports', i, 'device'], `${p.device} is already served by ports[${sameDevice}] (allowed: one port per device; use maxConnections to share it)`);
    else devices.set(device, i);
  });
  const rotatorNames = new Set<string>();
  cfg.rotators.forEach((r, i) => {
    if (rotatorNames.has(r.name) || names.has(r.name)) bad(['rotators', i, 'name'], `name "${r.name}" is already used (allowed: a name no port or rotator has)`);
    rotatorNames.add(r.name);
    r.ports.forEach((n, j) => {
      if (!names.has(n)) bad(['rotators', i, 'ports', j], `no port named "${n}" (allowed: ${[...names.keys()].join(', ')})`);
    });
  });
}

export type BridgeConfig = z.infer<typeof bridgeConfigSchema>;
export type PortConfig = z.infer<typeof port>;

export async function loadBridgeConfig(file: string): Promise<BridgeConfig> {
  return loadYamlFile(file, bridgeConfigSchema);
}
