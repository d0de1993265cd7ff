/**
 * Where the pages live: `web/` at the package's top (plain ES modules, no build step) and
 * `dist/web/vendor/` (xterm, copied from node_modules by the build: the package serves it, no CDN).
 * Found by walking up from this module, which runs from dist/bundle or dist/src/web alike.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'ppp-laplink') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('ppp-laplink: cannot find the package root for the web pages');
    dir = up;
  }
}

export interface Asset {
  body: Buffer;
  type: string;
}

/** The files the server may send, read once at start: nothing outside these folders is reachable. */
export class AssetStore {
  private readonly cache = new Map<string, Asset>();
  private readonly roots: Array<[prefix: string, dir: string]>;

  constructor(root = packageRoot()) {
    this.roots = [
      ['/vendor/', join(root, 'dist', 'web', 'vendor')],
      ['/', join(root, 'web')],
    ];
  }

  get(urlPath: string): Asset | undefined {
    const hit = this.cache.get(urlPath);
    if (hit) return hit;
    for (const [prefix, dir] of this.roots) {
      if (!urlPath.startsWith(prefix)) continue;
      const rel = normalize(urlPath.slice(prefix.length));
      if (rel.startsWith('..') || rel.includes(`${sep}..`) || rel.includes('\0')) return undefined;
      const file = join(dir, rel);
      const type = TYPES[extname(file)];
      if (!type || !existsSync(file)) continue;
      const asset = { body: readFileSync(file), type };
      this.cache.set(urlPath, asset);
      return asset;
    }
    return undefined;
  }
}
