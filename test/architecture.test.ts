// Keeps the dependency rules of STYLE.md true by reading every import under src/.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const src = join(root, 'src');
const sourceExtensions = /\.(ts|mts|cts|js|mjs|cjs)$/;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : sourceExtensions.test(entry.name) ? [join(dir, entry.name)] : [],
  );
}

interface SourceFile {
  path: string; // relative to src/, e.g. engine/graph.ts
  text: string;
  /** Relative imports resolved to paths under src/ ('../x.js' → 'x.ts'), packages as written. */
  imports: { local: string[]; packages: string[] };
  /** Dynamic imports and require() calls whose specifier is computed: nothing can check where they lead. */
  computed: string[];
}

/**
 * Every module a file names, read from its syntax tree (comments and strings are not imports):
 * `import … from`, bare `import '…'`, `export … from`, `import x = require('…')`, `import('…')` and
 * `require('…')`; computed specifiers are reported apart.
 */
function moduleSpecifiers(fileName: string, text: string): { specifiers: string[]; computed: string[] } {
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false);
  const specifiers: string[] = [];
  const computed: string[] = [];
  const literal = (node: ts.Node | undefined) =>
    node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) ? node.text : null;
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      specifiers.push(literal(node.moduleSpecifier)!);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      specifiers.push(literal(node.moduleReference.expression) ?? '');
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))
    ) {
      const specifier = literal(node.arguments[0]);
      if (specifier === null) computed.push(node.getText(file));
      else specifiers.push(specifier);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      specifiers.push(literal(node.argument.literal) ?? '');
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return { specifiers, computed };
}

const sources: SourceFile[] = files(src).map((file) => {
  const text = readFileSync(file, 'utf8');
  const { specifiers, computed } = moduleSpecifiers(file, text);
  const local = specifiers
    .filter((s) => s.startsWith('.'))
    .map((s) => relative(src, resolve(dirname(file), s)).replace(/\.js$/, '.ts'));
  const packages = specifiers.filter((s) => !s.startsWith('.'));
  return { path: relative(src, file), text, imports: { local, packages }, computed };
});

const under = (prefix: string) => sources.filter((f) => f.path.startsWith(prefix));

describe('architecture (STYLE.md)', () => {
  it('finds the source files', () => {
    expect(under('engine/').length).toBeGreaterThan(5);
  });

  it('reads every form of import, and none in comments or strings', () => {
    const text = `
      import a from './a.js';
      import type { B } from '../b.js';
      import {
        c,
      } from "./c.js";
      import './bare.js';
      export { d } from './d.js';
      export * from './e.js';
      export * as f from './f.js';
      const g = await import('./g.js');
      void import(\`./h.js\`).then(() => {});
      const i = require('./i.js');
      import j = require('./j.js');
      type K = import('./k.js').K;
      // import { no } from './comment.js';
      const s = "import('./string.js')";
      const dynamic = await import(name);
    `;
    expect(moduleSpecifiers('sample.ts', text)).toEqual({
      specifiers: ['./a.js', '../b.js', './c.js', './bare.js', './d.js', './e.js', './f.js', './g.js', './h.js', './i.js', './j.js', './k.js'],
      computed: ['import(name)'],
    });
  });

  it('imports only modules it names: no dynamic import or require with a computed specifier', () => {
    for (const file of sources) expect(file.computed, file.path).toEqual([]);
  });

  it('db/ imports nothing of src/ outside db/', () => {
    for (const file of under('db/')) {
      for (const target of file.imports.local) expect(`${file.path} → ${target}`).toMatch(/→ db\//);
    }
  });

  it('engine/ imports no schema, graphql, yoga, Pothos, ws or database driver, and never reads process.env', () => {
    for (const file of under('engine/')) {
      for (const target of file.imports.local) expect(`${file.path} → ${target}`).toMatch(/→ engine\//);
      for (const pkg of file.imports.packages) {
        expect(`${file.path} → ${pkg}`).not.toMatch(/→ (graphql|graphql-yoga|graphql-ws|ws|@pothos\/.*)(\/.*)?$/);
        // It reaches storage through its port only: no database driver and no ORM.
        expect(`${file.path} → ${pkg}`).not.toMatch(/→ (drizzle-orm|drizzle-kit|postgres|pg|@electric-sql\/pglite)(\/.*)?$/);
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
