// Import-cycle check for the TypeScript tree: builds the graph of relative imports under js/ and host/ and exits 1 naming each cycle.
//
// The layer rule (DESIGN.md §2) says arrows point one way; a cycle means two files each need the
// other, so neither has one job. Type-only imports count too: they tie the files just as much.
// No dependencies: it reads the sources as text (import/export ... from '<relative>').
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Bound on directory depth walked. */
const WALK_DEPTH_MAX = 12;
/** Bound on cycles printed: past this the tree has a structural problem, not a list to read. */
const CYCLES_PRINTED_MAX = 50;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TOPS = process.argv.length > 2 ? process.argv.slice(2) : ['js', 'host'];

function walk(dir, depth, out) {
  if (depth > WALK_DEPTH_MAX) return;
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, depth + 1, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
}

// Static imports and re-exports (`import x from`, `import type`, `export * from`, bare `import '…'`)
// and dynamic `import('…')` with a literal: a lazy import still ties the two files together.
const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;

function importsOf(file) {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out = new Set();
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
    if (existsSync(target)) out.add(target);
    else if (existsSync(join(target, 'index.ts'))) out.add(join(target, 'index.ts'));
  }
  return out;
}

const files = [];
for (const top of TOPS) if (existsSync(join(ROOT, top))) walk(join(ROOT, top), 0, files);
const graph = new Map(files.map((f) => [f, importsOf(f)]));

// Tarjan's strongly connected components: every component of more than one file (or a file
// importing itself) is a cycle; one path through it is printed so a reader can find the edge to cut.
let index = 0;
const stack = [];
const on = new Set();
const idx = new Map();
const low = new Map();
const components = [];
function strong(v) {
  // Iterative, so a deep chain of imports cannot overflow the stack.
  const work = [[v, [...(graph.get(v) ?? [])], 0]];
  idx.set(v, index);
  low.set(v, index);
  index++;
  stack.push(v);
  on.add(v);
  while (work.length > 0) {
    const frame = work[work.length - 1];
    const [node, edges] = frame;
    if (frame[2] < edges.length) {
      const w = edges[frame[2]++];
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        idx.set(w, index);
        low.set(w, index);
        index++;
        stack.push(w);
        on.add(w);
        work.push([w, [...graph.get(w)], 0]);
      } else if (on.has(w)) low.set(node, Math.min(low.get(node), idx.get(w)));
      continue;
    }
    work.pop();
    if (work.length > 0) {
      const parent = work[work.length - 1][0];
      low.set(parent, Math.min(low.get(parent), low.get(node)));
    }
    if (low.get(node) === idx.get(node)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        comp.push(w);
      } while (w !== node);
      if (comp.length > 1 || graph.get(node).has(node)) components.push(comp);
    }
  }
}
for (const f of graph.keys()) if (!idx.has(f)) strong(f);

/** One cycle inside a component, by breadth-first search back to its first file. */
function cycleIn(comp) {
  const inComp = new Set(comp);
  const start = comp.slice().sort()[0];
  const prev = new Map([[start, null]]);
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift();
    for (const w of graph.get(v)) {
      if (!inComp.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = prev.get(u)) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

const rel = (f) => relative(ROOT, f);
if (components.length === 0) {
  console.log(`import cycles: none in ${TOPS.join(', ')} (${graph.size} files)`);
  process.exit(0);
}
console.error(`import cycles: ${components.length} in ${TOPS.join(', ')} (${graph.size} files)`);
for (const comp of components.slice(0, CYCLES_PRINTED_MAX)) {
  console.error(`  ${comp.length} files: ${cycleIn(comp).map(rel).join(' -> ')}`);
}
process.exit(1);
