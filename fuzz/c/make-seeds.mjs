// Writes the C fuzz targets' seed corpora from what the main build made: real images, manifests, bytecode and slot records.
// Usage: node fuzz/c/make-seeds.mjs <main build dir> <out dir>
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [mainBuild, out] = process.argv.slice(2);
if (!mainBuild || !out) {
  console.error('usage: make-seeds.mjs <main build dir> <out dir>');
  process.exit(2);
}
const need = (p) => {
  if (!existsSync(p)) {
    console.error(`make-seeds: ${p} is missing: run npm run build first`);
    process.exit(1);
  }
  return p;
};
const { readCpio, writeCpio } = await import(pathToFileURL(need(join(mainBuild, 'tsc/host/image/cpio.js'))).href);
const { encodeSlotState } = await import(pathToFileURL(need(join(mainBuild, 'tsc/host/image/slots.js'))).href);

const put = (target, name, bytes) => {
  mkdirSync(join(out, target), { recursive: true });
  writeFileSync(join(out, target, name), bytes);
};
const sha = (b) => createHash('sha256').update(b).digest('hex');
const text = (s) => new TextEncoder().encode(s);

for (const img of ['dev', 'js-tests']) {
  const bytes = new Uint8Array(readFileSync(need(join(mainBuild, 'images', `${img}.img`))));
  put('fuzz_image', `${img}.img`, bytes);
  const entries = readCpio(bytes);
  put('fuzz_manifest', `${img}.json`, entries[0].data);
  for (const e of entries) if (e.name.endsWith('.qbc') && e.data.length < 64 * 1024) put('fuzz_qbc', e.name, e.data);
}

// A small unsigned image (one task, the smallest bundle): mutations of it reach the bundle checks quickly.
const dev = readCpio(new Uint8Array(readFileSync(join(mainBuild, 'images', 'dev.img'))));
const manifest = JSON.parse(new TextDecoder().decode(dev[0].data));
const small = dev.filter((e) => e.name.endsWith('.qbc')).sort((a, b) => a.data.length - b.data.length)[0];
const task = manifest.tasks.find((t) => t.bundle === small.name);
const tiny = { ...manifest, image_id: 'fuzz-tiny', root_task: task.name, tasks: [{ ...task, size: small.data.length, sha256: sha(small.data) }] };
const tinyJson = text(JSON.stringify(tiny));
put('fuzz_manifest', 'tiny.json', tinyJson);
put('fuzz_image', 'tiny.img', writeCpio([{ name: 'manifest.json', data: tinyJson }, { name: small.name, data: small.data }]));

// Slot records: every state the machine writes, and one torn record.
for (const active of ['A', 'B'])
  for (const lastGood of ['A', 'B', null])
    for (const attempts of [0, 1, 2, 255]) put('fuzz_slots', `${active}${lastGood ?? '-'}${attempts}`, text(encodeSlotState({ active, last_good: lastGood, attempts })));
put('fuzz_slots', 'torn', text('cohesix-slots/v1 active=A last_g'));
console.error(`make-seeds: corpora in ${out}`);
