// Checks the C include graph of firmware/ + bindings/ for cycles and the layer rule (a capability never includes the firmware's own header; firmware/ calls a capability only through its registration); exits 1 naming what it found.
//
// Why: DESIGN.md §2 says arrows point down only (platforms → firmware → bindings → engine); the
// capabilities reach the firmware only through its contract (firmware/task_table.h, reload.h), and
// firmware/ reaches a capability only through the registration list. A header cycle is the first
// sign of the old hub (bindings/firmware.h, which every capability and the core included) coming back.
// Only quoted includes (#include "x.h") resolved inside the checked folders are edges: the engine,
// the C library and the platforms are below or outside these two folders and cannot close a cycle here.
//
// Usage: node scripts/check-include-cycles.mjs [repo root]   (npm test runs it)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Folders whose headers and sources form the graph; a test folder's files are leaves, never included. */
const CHECKED_FOLDERS = ['firmware', 'bindings'];
/** Headers of the firmware that only firmware/ may include (its own state, not the contract). */
const FIRMWARE_PRIVATE_HEADERS = ['firmware/firmware.h'];
/** Bound on files walked, so a stray symlink loop or generated tree cannot make the check run away. */
const FILES_MAX = 2000;
const INCLUDE = /^\s*#\s*include\s+"([^"]+)"/gm;

const root = process.argv[2] ?? process.cwd();

/** Every .c and .h file under the checked folders, as repo-relative paths. */
function listFiles() {
  const out = [];
  const walk = (dir) => {
    for (const name of readdirSync(join(root, dir))) {
      const rel = `${dir}/${name}`;
      if (statSync(join(root, rel)).isDirectory()) walk(rel);
      else if (/\.[ch]$/.test(name)) out.push(rel);
      if (out.length > FILES_MAX) throw new Error(`more than ${FILES_MAX} C files under ${CHECKED_FOLDERS.join(', ')}`);
    }
  };
  for (const folder of CHECKED_FOLDERS) if (existsSync(join(root, folder))) walk(folder);
  return out.sort();
}

/** Resolves `#include "name"` from file as the build does: the file's own folder, then each checked folder. */
function resolve(file, name, known) {
  const own = file.slice(0, file.lastIndexOf('/'));
  for (const dir of [own, ...CHECKED_FOLDERS]) {
    const candidate = relative(root, join(root, dir, name)).split('\\').join('/');
    if (known.has(candidate)) return candidate;
  }
  return null;
}

/** The include edges of every checked file (only to other checked files). */
export function includeGraph() {
  const files = listFiles();
  const known = new Set(files);
  const graph = new Map();
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8');
    const edges = [];
    for (const m of text.matchAll(INCLUDE)) {
      const target = resolve(file, m[1], known);
      if (target) edges.push(target);
    }
    graph.set(file, edges);
  }
  return graph;
}

/** The first cycle found by depth-first search, as a list of files ending where it started; null if none. */
export function findCycle(graph) {
  const state = new Map(); // file -> 'open' while on the stack, 'done' after
  const stack = [];
  const visit = (file) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(file, 'done');
    return null;
  };
  for (const file of graph.keys()) {
    if (state.has(file)) continue;
    const found = visit(file);
    if (found) return found;
  }
  return null;
}

/** Includes that break the layer rule: a file outside firmware/ including the firmware's private header. */
export function layerViolations(graph) {
  const out = [];
  for (const [file, edges] of graph)
    for (const target of edges)
      if (FIRMWARE_PRIVATE_HEADERS.includes(target) && !file.startsWith('firmware/'))
        out.push(`${file} includes ${target} (capabilities use firmware/task_table.h, the contract)`);
  return out;
}

/** Functions a capability file defines for others to call (not static): its entry and its own API. */
function exportedFunctions(file) {
  const text = readFileSync(join(root, file), 'utf8');
  const names = [];
  for (const m of text.matchAll(/^(?!static\b)[A-Za-z_][\w \t*]*?\b([A-Za-z_]\w*)\s*\([^;{]*\)\s*\{/gm)) names.push(m[1]);
  return names;
}

/** The call circle the registrations removed: a firmware/ file naming a function a capability defines. */
export function firmwareCallsIntoCapabilities(graph) {
  const out = [];
  const exported = new Map();
  for (const file of graph.keys())
    if (file.startsWith('bindings/') && file.endsWith('.c') && !file.includes('/tests/'))
      for (const name of exportedFunctions(file)) exported.set(name, file);
  for (const file of graph.keys()) {
    if (!file.startsWith('firmware/') || file.includes('/tests/')) continue;
    const text = readFileSync(join(root, file), 'utf8');
    for (const [name, owner] of exported)
      if (new RegExp(`\\b${name}\\b`).test(text)) out.push(`${file} names ${name} (${owner}): go through its registration`);
  }
  return out;
}

const graph = includeGraph();
const cycle = findCycle(graph);
const violations = [...layerViolations(graph), ...firmwareCallsIntoCapabilities(graph)];
if (cycle) console.error(`include cycle in ${CHECKED_FOLDERS.join(' + ')}: ${cycle.join(' -> ')}`);
for (const v of violations) console.error(`layer: ${v}`);
if (cycle || violations.length) process.exit(1);
const edges = [...graph.values()].reduce((n, e) => n + e.length, 0);
console.log(
  `include graph of ${CHECKED_FOLDERS.join(' + ')}: ${graph.size} files, ${edges} edges, no cycle; ` +
    `no capability includes the firmware's own header, and firmware/ names no capability's function`,
);
