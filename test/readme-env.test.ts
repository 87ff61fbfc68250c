// Every environment variable the server reads is documented in the README's one configuration table:
// a variable added to src/config.ts without a row there fails here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

const configSource = readFileSync(new URL('../src/config.ts', import.meta.url), 'utf8');
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The keys of the zod object src/config.ts validates the environment with (its only reader). */
function variablesReadByConfig(): string[] {
  const start = configSource.indexOf('const envSchema = z.object({');
  expect(start).toBeGreaterThan(-1);
  const end = configSource.indexOf('\n});', start);
  const body = configSource.slice(start, end);
  return [...body.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((match) => match[1]!);
}

/** The rows of the table under "## Configuration": variable name → [default, what it does]. */
function configurationTable(): Map<string, [string, string]> {
  const section = readme.slice(readme.indexOf('\n## Configuration\n'), readme.indexOf('\n## ', readme.indexOf('\n## Configuration\n') + 1));
  const rows = new Map<string, [string, string]>();
  for (const line of section.split('\n')) {
    const cells = /^\| `([A-Z][A-Z0-9_]*)` \|(.*)\|(.*)\|$/.exec(line);
    if (cells) rows.set(cells[1]!, [cells[2]!.trim(), cells[3]!.trim()]);
  }
  return rows;
}

describe('README configuration table', () => {
  it('has a row, with a default and a description, for every variable src/config.ts reads', () => {
    const variables = variablesReadByConfig();
    // The parse above must see the variables, or this test proves nothing.
    expect(variables).toEqual(expect.arrayContaining(['PORT', 'DATABASE_URL', 'DATA_DIR', 'LOG_LEVEL', 'METRICS_TOKEN', 'OTEL_EXPORTER_OTLP_ENDPOINT']));
    expect(variables.length).toBeGreaterThan(20);
    const table = configurationTable();
    const missing = variables.filter((name) => !table.has(name));
    expect(missing, 'variables read by src/config.ts with no row in the README table').toEqual([]);
    for (const name of variables) {
      const [defaultValue, meaning] = table.get(name)!;
      expect(defaultValue, `${name}: default`).not.toBe('');
      expect(meaning.length, `${name}: what it does`).toBeGreaterThan(10);
    }
  });

  it('finds every variable in the schema: src/config.ts reads none by name elsewhere', () => {
    // A variable read as env.X or process.env.X would escape the list above (and the table).
    expect(configSource.match(/\b(process\.)?env(\.[A-Z][A-Z0-9_]*|\[['"`])/g) ?? []).toEqual([]);
  });

  it('states the defaults loadConfig applies for the main settings', () => {
    const defaults = loadConfig({});
    const table = configurationTable();
    expect(table.get('PORT')![0]).toBe(`\`${defaults.port}\``);
    expect(table.get('DATA_DIR')![0]).toBe(`\`${defaults.dataDir}\``);
    expect(table.get('LOG_LEVEL')![0]).toBe(`\`${defaults.logLevel}\``);
    expect(table.get('RUN_LEASE_MS')![0]).toBe(`\`${defaults.runLeaseMs}\``);
    expect(table.get('MAX_QUERY_DEPTH')![0]).toBe(`\`${defaults.maxQueryDepth}\``);
  });
});
