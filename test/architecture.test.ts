// Keeps the dependency rules of STYLE.md true by reading every import under src/.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const src = join(root, 'src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

interface SourceFile {
  path: string; // relative to src/, e.g. engine/graph.ts
  text: string;
  /** Relative imports resolved to paths under src/ ('../x.js' → 'x.ts'), packages as written. */
  imports: { local: string[]; packages: string[] };
}

const sources: SourceFile[] = files(src).map((file) => {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map(
    (m) => (m[1] ?? m[2])!,
  );
  const local = specifiers
    .filter((s) => s.startsWith('.'))
    .map((s) => relative(src, resolve(dirname(file), s)).replace(/\.js$/, '.ts'));
  const packages = specifiers.filter((s) => !s.startsWith('.'));
  return { path: relative(src, file), text, imports: { local, packages } };
});

const under = (prefix: string) => sources.filter((f) => f.path.startsWith(prefix));

describe('architecture (STYLE.md)', () => {
  it('finds the source files', () => {
    expect(under('engine/').length).toBeGreaterThan(5);
  });

  it('db/ imports nothing of src/ outside db/', () => {
    for (const file of under('db/')) {
      for (const target of file.imports.local) expect(`${file.path} → ${target}`).toMatch(/→ db\//);
    }
  });

  it('engine/ imports no schema, graphql, yoga, Pothos or ws, and never reads process.env', () => {
    for (const file of under('engine/')) {
      for (const target of file.imports.local) expect(`${file.path} → ${target}`).toMatch(/→ engine\//);
      for (const pkg of file.imports.packages) {
        expect(`${file.path} → ${pkg}`).not.toMatch(/→ (graphql|graphql-yoga|graphql-ws|ws|@pothos\/.*|drizzle-orm.*)$/);
      }
      expect(file.text, file.path).not.toMatch(/process\.env/);
    }
  });

  it('engine/nodes/ know only their handler type, the errors and the clock', () => {
    const allowed = /^engine\/(nodes\/.*|errors\.ts|clock\.ts)$/;
    for (const file of under('engine/nodes/')) {
      for (const target of file.imports.local) expect(`${file.path} → ${target}`).toMatch(new RegExp(`→ ${allowed.source.slice(1)}`));
      expect(file.imports.packages.join(' '), file.path).not.toMatch(/xstate/);
    }
  });

  it('runs/ uses engine and db; engine and db never import runs/; schema/ never drives the engine', () => {
    expect(under('runs/').length).toBeGreaterThan(3);
    for (const file of under('runs/')) {
      for (const target of file.imports.local) expect(`${file.path} → ${target}`).toMatch(/→ (runs\/|engine\/index\.ts|db\/|pubsub\.ts)/);
      expect(file.imports.packages.join(' '), file.path).not.toMatch(/graphql|@pothos/);
    }
    for (const file of [...under('engine/'), ...under('db/')]) {
      expect(file.imports.local.filter((t) => t.startsWith('runs/')), file.path).toEqual([]);
    }
    for (const file of under('schema/')) expect(file.text, file.path).not.toMatch(/createEngine|\.startRun\(/);
  });

  it('schema/ reaches the engine only through engine/index.ts', () => {
    for (const file of under('schema/')) {
      for (const target of file.imports.local.filter((t) => t.startsWith('engine/'))) {
        expect(`${file.path} → ${target}`).toMatch(/→ engine\/index\.ts$/);
      }
    }
  });

  it('only config.ts reads the environment, only main.ts exits, only server.ts opens a port', () => {
    for (const file of sources) {
      if (file.path !== 'config.ts') expect(file.text, file.path).not.toMatch(/process\.env/);
      if (file.path !== 'main.ts') expect(file.text, file.path).not.toMatch(/process\.exit\(/);
      // db/data-dir-lock.ts listens on a Unix socket in DATA_DIR (the lock), not on a port; a Postgres
      // LISTEN (`.listen(channels.…`) opens none either.
      if (file.path !== 'server.ts' && file.path !== 'db/data-dir-lock.ts') expect(file.text, file.path).not.toMatch(/\.listen\((?!channels\.)/);
    }
  });
});
