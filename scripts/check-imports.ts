/**
 * Enforces the layer rules of DESIGN.md: a row imports only rows above it, a provider
 * never imports another provider, the scheduler never imports a provider.
 * Run by `npm run lint`; exits non-zero naming each offending import.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const SRC = resolve(import.meta.dirname, '..', 'src');

/** Which layers each layer may import (its own always allowed). */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  clients: ['core'],
  providers: ['core', 'clients'],
  scheduler: ['core'],
  'logical-dc': ['core', 'scheduler'],
  gateway: ['core', 'logical-dc', 'scheduler'],
  cli: ['*'],
  root: ['*'],
};

function layerOf(file: string): { layer: string; unit: string } {
  const parts = relative(SRC, file).split(sep);
  if (parts.length === 1) return { layer: 'root', unit: 'root' };
  const layer = parts[0]!;
  // Each provider (and each client family) is its own unit.
  const unit = layer === 'providers' || layer === 'clients' ? `${layer}/${parts[1]}` : layer;
  return { layer, unit };
}

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else if (path.endsWith('.ts')) yield path;
  }
}

const IMPORT =
  /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const problems: string[] = [];
for (const file of walk(SRC)) {
  const from = layerOf(file);
  const allowed = ALLOWED[from.layer] ?? [];
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? '';
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec);
    if (!target.startsWith(SRC)) continue;
    const to = layerOf(target);
    if (to.unit === from.unit || allowed.includes('*')) continue;
    const ok =
      allowed.includes(to.layer) && !(from.layer === 'providers' && to.layer === 'providers');
    if (!ok)
      problems.push(
        `${relative(process.cwd(), file)}: ${from.unit} may not import ${to.unit} ("${spec}")`,
      );
  }
}
if (problems.length > 0) {
  console.error(
    `import rules broken (see DESIGN.md, "Layers and what may import what"):\n${problems.join('\n')}`,
  );
  process.exit(1);
}
console.log('import rules: ok');
