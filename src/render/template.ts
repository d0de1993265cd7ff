import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Mustache from 'mustache';
import { templatesDir } from '../paths.js';

/**
 * Renders `templates/<name>` with Mustache. Output is configuration, not HTML, so nothing is
 * escaped: values are safe because the profile schema only admits safe tokens, not because of
 * escaping here.
 */
export function renderTemplate(name: string, view: object): string {
  const source = readFileSync(join(templatesDir(), name), 'utf8');
  return Mustache.render(source, view, {}, { escape: (s: string) => s });
}
