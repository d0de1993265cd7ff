/**
 * Metric families written in Prometheus's text format (0.0.4) or OpenMetrics 1.0.0, the two formats
 * a Prometheus server asks for. They differ in three places: OpenMetrics names a counter family
 * without `_total` and an info family without `_info` (its samples keep the suffix), types info
 * as `info` (0.0.4 has no such type: a gauge), and ends with `# EOF`.
 */

export type MetricType = 'gauge' | 'counter' | 'info';

export interface Sample {
  labels: Readonly<Record<string, string>>;
  value: number;
}

export interface MetricFamily {
  /** Without the `_total` of a counter or the `_info` of an info metric. */
  name: string;
  type: MetricType;
  help: string;
  samples: Sample[];
}

export type ExpositionFormat = 'prometheus' | 'openmetrics';

export const CONTENT_TYPES: Readonly<Record<ExpositionFormat, string>> = {
  prometheus: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

/** The format an Accept header asks for: OpenMetrics when it is named, else the classic text. */
export function formatFor(accept: string | undefined): ExpositionFormat {
  return accept && /application\/openmetrics-text/i.test(accept) ? 'openmetrics' : 'prometheus';
}

/** A label value as both formats need it: backslash, double quote and newline escaped. Lone UTF-16
 *  surrogates (possible in a JSON string) become U+FFFD, so the output is always valid UTF-8. */
export function escapeLabelValue(value: string): string {
  // the common value (a name, an address, a path) needs neither: returned as it is, no copy (a
  // scrape writes thousands of label values, and a round trip through a Buffer each was a third
  // of its CPU)
  const whole = value.isWellFormed() ? value : value.toWellFormed();
  return NEEDS_ESCAPE.test(whole) ? whole.replace(ESCAPED, (c) => (c === '\n' ? '\\n' : `\\${c}`)) : whole;
}
const NEEDS_ESCAPE = /[\\"\n]/;
const ESCAPED = /[\\"\n]/g;

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** `{k="v",…}`, or '' without labels; built by concatenation (no array per sample: a scrape has thousands). */
function labelText(labels: Readonly<Record<string, string>>): string {
  let text = '';
  for (const key in labels) text += `${text ? ',' : '{'}${key}="${escapeLabelValue(labels[key]!)}"`;
  return text && `${text}}`;
}

const SAMPLE_SUFFIX: Readonly<Record<MetricType, string>> = { gauge: '', counter: '_total', info: '_info' };

export function renderFamilies(families: readonly MetricFamily[], format: ExpositionFormat): string {
  const out: string[] = [];
  for (const f of families) {
    const sampleName = f.name + SAMPLE_SUFFIX[f.type];
    const familyName = format === 'openmetrics' ? f.name : sampleName;
    const type = f.type === 'info' && format === 'prometheus' ? 'gauge' : f.type;
    out.push(`# HELP ${familyName} ${f.help}`, `# TYPE ${familyName} ${type}`);
    for (const s of f.samples) out.push(`${sampleName}${labelText(s.labels)} ${formatValue(s.value)}`);
  }
  if (format === 'openmetrics') out.push('# EOF');
  return `${out.join('\n')}\n`;
}
