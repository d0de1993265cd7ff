import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBridgeConfig } from '../../src/bridge/config.js';

const dir = mkdtempSync(join(tmpdir(), 'laplink-pace-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function load(pace: string): Promise<unknown> {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `ports:\n  - device: /dev/ttyS0\n    listen: 4001\n${pace ? `    pace: ${pace}\n` : ''}`);
  return loadBridgeConfig(file);
}

describe('bridge config pace:', () => {
  it('is a baud rate per port, absent by default (unpaced)', async () => {
    expect(((await load('115200')) as { ports: Array<{ pace?: number }> }).ports[0]!.pace).toBe(115200);
    expect(((await load('')) as { ports: Array<{ pace?: number }> }).ports[0]!.pace).toBeUndefined();
  });

  it('refuses zero, fractions and words, naming the line and field', async () => {
    for (const bad of ['0', '9600.5', 'fast']) await expect(load(bad)).rejects.toThrow(/:4:\d+: ports\[0\]\.pace: /);
  });
});
