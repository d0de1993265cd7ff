/**
 * `laplink bridge run CONFIG`: many ports, rotators and a control port from one YAML file, validated
 * with zod through the project's positioned loader (errors `FILE:LINE:COL: field: message`, exit 2).
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { loadYamlFile } from '../yaml/load.js';
import { parseListenAddress, type HostPort } from '../listen/address.js';
import { CLIENT_CERT_POLICIES, tlsServerProblems } from '../tls/settings.js';
import { webNeedsControl, webSectionSchema } from '../web/config.js';
import { isTermiosSpeed } from './port-options.js';
import { PORT_OPTIONS, TERMIOS_SPEED_PROBLEM, type GroupRow, type PortOptionRow, type PortOptionValues } from './port-option-table.js';

/**
 * `[HOST:]PORT` read by the one address parser, here, so a bad address (`listen: 99999`) is
 * reported at its line and column. A bare port is naturally written `listen: 4001`, which YAML reads
 * as a number.
 */
const listen = z.union([z.string(), z.number()]).transform((v, ctx): HostPort => {
  try {
    return parseListenAddress(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `${(err as Error).message} (allowed: [HOST:]PORT, port 0-65535)` });
    return z.NEVER;
  }
});

/** A listener's `tls:` block (ports, rotators, the control port). */
const tls = z
  .object({
    cert: z.string().min(1),
    key: z.string().min(1),
    ca: z.string().min(1).optional(),
    clientCert: z.enum(CLIENT_CERT_POLICIES).optional(),
    allow: z.array(z.string().min(1)).optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    for (const p of tlsServerProblems(t)) ctx.addIssue({ code: 'custom', path: [p.field], message: p.message });
  });

/** A row's zod schema: its type and range, its default or else optional. */
function rowSchema(row: PortOptionRow): z.ZodType {
  const defaulted = (schema: z.ZodType, value: unknown) => (value === undefined ? schema.optional() : schema.default(value as never));
  switch (row.type) {
    case 'choice':
      return defaulted(typeof row.values[0] === 'number' ? z.literal(row.values as readonly number[]) : z.enum(row.values as readonly [string, ...string[]]), row.default);
    case 'speed':
      return defaulted(z.number().int().refine(isTermiosSpeed, TERMIOS_SPEED_PROBLEM), row.default);
    case 'whole': {
      const atLeast = z.number().int().min(row.min);
      return defaulted(row.max === undefined ? atLeast : atLeast.max(row.max), row.default);
    }
    case 'switch':
      return z.boolean().default(row.default);
    case 'text':
      return z.string().optional();
    case 'texts':
      return z.array(z.string()).optional();
  }
}

type SchemaOf<V> = undefined extends V ? z.ZodOptional<z.ZodType<Exclude<V, undefined>>> : z.ZodDefault<z.ZodType<V>>;

/** The port options' part of a port's schema, one field per row of the table. */
function portOptionsShape(): { [K in keyof Required<PortOptionValues>]: SchemaOf<PortOptionValues[K]> } {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, row] of Object.entries(PORT_OPTIONS) as Array<[string, PortOptionRow | GroupRow]>) {
    if (row.type !== 'group') shape[key] = rowSchema(row);
    else shape[key] = z.object(Object.fromEntries(Object.entries(row.fields).map(([field, inner]) => [field, rowSchema(inner)]))).strict().optional();
  }
  return shape as never;
}

const port = z
  .object({
    /** Defaults to the device path (used by rotators, the control port and log lines). */
    name: z.string().min(1).optional(),
    device: z.string().min(1),
    listen: listen.optional(),
    tls: tls.optional(),
    ...portOptionsShape(),
  })
  .strict();

const rotator = z
  .object({
    name: z.string().min(1),
    listen,
    tls: tls.optional(),
    ports: z.array(z.string().min(1)).min(1),
  })
  .strict();

/** `control: 2000`, or `control: { listen: 2000, tls: {…} }` for a control port on a network. */
const control = z.preprocess((v) => (typeof v === 'string' || typeof v === 'number' ? { listen: v } : v), z.object({ listen, tls: tls.optional() }).strict());

export const bridgeConfigSchema = z
  .object({
    control: control.optional(),
    lockDir: z.string().optional(),
    lock: z.boolean().default(true),
    ports: z.array(port).min(1),
    rotators: z.array(rotator).default([]),
    web: webSectionSchema(listen, tls).optional(),
  })
  .strict()
  .superRefine(crossPortRules)
  .superRefine(webNeedsControl);

/**
 * What no single port can see, checked before anything listens: each problem is reported at the
 * field to change, so the loader prints it as FILE:LINE:COL.
 */
function crossPortRules(cfg: { ports: Array<{ name?: string; device: string; listen?: unknown; tls?: unknown }>; rotators: Array<{ name: string; ports: string[] }> }, ctx: z.RefinementCtx): void {
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
    if (p.tls && !p.listen) bad(['ports', i, 'tls'], 'a port without listen: has no listener of its own for TLS (allowed: tls on the rotator that hands it clients)');
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
export type ListenerTlsConfig = z.infer<typeof tls>;
export type ControlConfig = z.infer<typeof control>;

export async function loadBridgeConfig(file: string): Promise<BridgeConfig> {
  return loadYamlFile(file, bridgeConfigSchema);
}
