/**
 * `laplink bridge run CONFIG`: many ports, rotators and a control port from one YAML file, validated
 * with zod through the project's positioned loader (errors `FILE:LINE:COL: field: message`, exit 2).
 */
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
  .strict();

export type BridgeConfig = z.infer<typeof bridgeConfigSchema>;
export type PortConfig = z.infer<typeof port>;

export async function loadBridgeConfig(file: string): Promise<BridgeConfig> {
  return loadYamlFile(file, bridgeConfigSchema);
}
