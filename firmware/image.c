/* The boot image: strict CPIO reader and whole-image verification before anything runs. */
#include "image.h"

#include <stdio.h>
#include <string.h>

#include "engine_id.h"
#include "error_text.h"
#include "image_sig.h"
#include "qbc.h"
#include "sha256.h"

#define CPIO_ALIGN_BYTES 4u
#define CPIO_ENTRY_MODE 0100644u
static const char CPIO_MAGIC[] = "070701";
static const char CPIO_TRAILER[] = "TRAILER!!!";

/* Field order of a newc header after the magic. */
enum { F_INO, F_MODE, F_UID, F_GID, F_NLINK, F_MTIME, F_FILESIZE, F_DEVMAJOR, F_DEVMINOR, F_RDEVMAJOR, F_RDEVMINOR, F_NAMESIZE, F_CHECK, F_COUNT };

/* Every refusal here reads "image: <detail>". */
#define fail(err, err_len, ...) error_text((err), (err_len), "image: ", __VA_ARGS__)

static size_t pad4(size_t n) { return (CPIO_ALIGN_BYTES - n % CPIO_ALIGN_BYTES) % CPIO_ALIGN_BYTES; }

static int all_zero(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i]) return 0;
  return 1;
}

static int parse_fields(const uint8_t *h, uint32_t f[F_COUNT]) {
  if (memcmp(h, CPIO_MAGIC, 6) != 0) return -1;
  for (unsigned i = 0; i < F_COUNT; i++) {
    uint32_t v = 0;
    for (unsigned k = 0; k < 8; k++) {
      uint8_t c = h[6 + i * 8 + k];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
      /* Upper case only, as the writer emits: a case flip must change the verdict, not only the bytes. */
      else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
      else return -2;
    }
    f[i] = v;
  }
  return 0;
}

int image_read_cpio(const uint8_t *buf, size_t len, Image *img, char *err, size_t err_len) {
  memset(img, 0, sizeof *img);
  if (len > IMAGE_BYTES_MAX) return fail(err, err_len, "%zu bytes, over IMAGE_BYTES_MAX (%u)", len, IMAGE_BYTES_MAX);
  size_t o = 0;
  for (unsigned n = 0;; n++) {
    if (n >= IMAGE_ENTRIES_MAX) return fail(err, err_len, "more than %u entries", IMAGE_ENTRIES_MAX);
    if (len - o < CPIO_HEADER_BYTES) return fail(err, err_len, "truncated header at offset %zu (no trailer)", o);
    uint32_t f[F_COUNT];
    int r = parse_fields(buf + o, f);
    if (r == -1) return fail(err, err_len, "no newc magic at offset %zu", o);
    if (r == -2) return fail(err, err_len, "header at offset %zu: a field is not 8 upper-case hex digits", o);
    size_t namesize = f[F_NAMESIZE];
    if (namesize < 2 || namesize - 1 > IMAGE_NAME_BYTES_MAX)
      return fail(err, err_len, "header at offset %zu: name size %zu outside 1..%u", o, namesize - 1, IMAGE_NAME_BYTES_MAX);
    size_t name_at = o + CPIO_HEADER_BYTES;
    size_t data_at = name_at + namesize + pad4(CPIO_HEADER_BYTES + namesize);
    if (data_at > len) return fail(err, err_len, "truncated name at offset %zu", name_at);
    const char *name = (const char *)buf + name_at;
    if (buf[name_at + namesize - 1] != 0 || strlen(name) != namesize - 1)
      return fail(err, err_len, "header at offset %zu: name is not one NUL-terminated string", o);
    if (!all_zero(buf + name_at + namesize, data_at - name_at - namesize))
      return fail(err, err_len, "non-zero padding after the name '%s'", name);
    int trailer = strcmp(name, CPIO_TRAILER) == 0;
    int fixed_ok = f[F_INO] == 0 && f[F_UID] == 0 && f[F_GID] == 0 && f[F_NLINK] == 1 && f[F_MTIME] == 0 &&
                   f[F_DEVMAJOR] == 0 && f[F_DEVMINOR] == 0 && f[F_RDEVMAJOR] == 0 && f[F_RDEVMINOR] == 0 &&
                   f[F_CHECK] == 0 && f[F_MODE] == (trailer ? 0u : CPIO_ENTRY_MODE);
    if (!fixed_ok) return fail(err, err_len, "entry '%s': header fields other than the allowed fixed values", name);
    size_t size = f[F_FILESIZE];
    if (size > len - data_at) return fail(err, err_len, "entry '%s' is truncated (%zu bytes declared)", name, size);
    size_t next = data_at + size + pad4(size);
    if (next > len) return fail(err, err_len, "entry '%s': truncated padding", name);
    if (!all_zero(buf + data_at + size, next - data_at - size)) return fail(err, err_len, "non-zero padding after entry '%s'", name);
    if (trailer) {
      if (size != 0) return fail(err, err_len, "trailer carries data");
      size_t end = next + (CPIO_BLOCK_BYTES - next % CPIO_BLOCK_BYTES) % CPIO_BLOCK_BYTES;
      if (len != end) return fail(err, err_len, "%zu bytes after the trailer; the image must end at offset %zu", len - next, end);
      if (!all_zero(buf + next, len - next)) return fail(err, err_len, "non-zero bytes after the trailer");
      return 0;
    }
    for (unsigned k = 0; k < img->count; k++)
      if (!strcmp(img->entries[k].name, name)) return fail(err, err_len, "duplicate entry '%s'", name);
    ImageEntry *e = &img->entries[img->count++];
    memcpy(e->name, name, namesize);
    e->data = buf + data_at;
    e->len = size;
    o = next;
  }
}

const ImageEntry *image_entry(const Image *img, const char *name) {
  for (unsigned i = 0; i < img->count; i++)
    if (!strcmp(img->entries[i].name, name)) return &img->entries[i];
  return NULL;
}

int image_open(const uint8_t *buf, size_t len, const ImageTrust *trust, Image *img, Manifest *m, char *err, size_t err_len) {
  if (image_read_cpio(buf, len, img, err, err_len) < 0) return -1;
  if (img->count == 0 || strcmp(img->entries[0].name, "manifest.json") != 0)
    return fail(err, err_len, "first entry must be manifest.json");
  const ImageEntry *man = &img->entries[0];
  const ImageEntry *sig = img->count > 1 && !strcmp(img->entries[1].name, IMAGE_SIG_ENTRY_NAME) ? &img->entries[1] : NULL;
  int trusted = trust && trust->has_key;
  /* The signature is checked before the manifest is parsed: with a trusted key, no unauthenticated
     JSON reaches the parser. */
  if (sig) {
    if (image_sig_check(man->data, man->len, sig->data, sig->len, trust, img->signer_id, err, err_len) < 0) return -1;
    img->is_signed = 1;
  } else if (trusted) {
    char want[IMAGE_KEY_ID_HEX_DIGITS + 1];
    image_key_id(trust->key, want);
    return fail(err, err_len, "unsigned image refused: no %s entry, and this firmware trusts only images signed by key %s",
                IMAGE_SIG_ENTRY_NAME, want);
  }
  if (manifest_parse((const char *)man->data, man->len, m, err, err_len) < 0) return -1;
  if (!strcmp(m->profile, "release") && !img->is_signed) {
    fail(err, err_len, "unsigned release image refused: a release image must carry %s by the trusted key", IMAGE_SIG_ENTRY_NAME);
    manifest_free(m);
    return -1;
  }
  if (!strcmp(m->profile, "release") && !trusted) {
    fail(err, err_len, "release image refused: no trusted key configured (cohesix-sim --trust-key <file>)");
    manifest_free(m);
    return -1;
  }
  const EngineId *me = engine_id();
  if (strcmp(m->engine_version, me->version) != 0 || memcmp(m->engine_fingerprint, me->fingerprint, SHA256_DIGEST_BYTES) != 0) {
    char theirs[SHA256_HEX_BYTES];
    sha256_hex(m->engine_fingerprint, theirs);
    fail(err, err_len, "built for engine %s (fingerprint %.16s...), this firmware runs %s (fingerprint %.16s...)",
         m->engine_version, theirs, me->version, me->fingerprint_hex);
    manifest_free(m);
    return -1;
  }
  unsigned first_bundle = sig ? 2u : 1u;
  for (unsigned i = first_bundle; i < img->count; i++) {
    int listed = 0;
    for (unsigned k = 0; k < m->task_count; k++) listed |= !strcmp(m->tasks[k].bundle, img->entries[i].name);
    if (!listed) {
      fail(err, err_len, "entry '%s' is not listed in the manifest", img->entries[i].name);
      manifest_free(m);
      return -1;
    }
  }
  /* Listed and duplicate-free: now the count and the order (manifest order) must match exactly. */
  for (unsigned k = 0; k < m->task_count && first_bundle + k < img->count; k++) {
    if (strcmp(img->entries[first_bundle + k].name, m->tasks[k].bundle) != 0) {
      fail(err, err_len, "entry %u is '%s', expected '%s' (bundles follow manifest order)", first_bundle + k + 1,
           img->entries[first_bundle + k].name, m->tasks[k].bundle);
      manifest_free(m);
      return -1;
    }
  }
  for (unsigned k = 0; k < m->task_count; k++) {
    ManifestTask *t = &m->tasks[k];
    const ImageEntry *e = image_entry(img, t->bundle);
    uint8_t digest[SHA256_DIGEST_BYTES];
    QbcFile q;
    QbcError qe;
    if (!e) {
      fail(err, err_len, "task '%s': bundle '%s' is missing from the image", t->name, t->bundle);
    } else if (e->len != t->size) {
      fail(err, err_len, "%s: %zu bytes, the manifest says %zu", t->bundle, e->len, t->size);
    } else if (sha256(e->data, e->len, digest), memcmp(digest, t->sha256, SHA256_DIGEST_BYTES) != 0) {
      fail(err, err_len, "%s: sha256 differs from the manifest (corrupted or tampered)", t->bundle);
    } else if ((qe = qbc_parse(e->data, e->len, me, &q)) != QBC_OK) {
      fail(err, err_len, "%s: refused: %s", t->bundle, qbc_error_text(qe));
    } else {
      t->payload = q.payload;
      t->payload_len = q.payload_bytes;
      continue;
    }
    manifest_free(m);
    return -1;
  }
  return 0;
}

const char *image_refusal_tag(const char *err) {
  if (strstr(err, "unsigned")) return "unsigned"; /* before "trusts only", which its message also says */
  if (strstr(err, "trusts only")) return "untrusted-key";
  if (strstr(err, "does not verify over manifest.json") || strstr(err, "a v1 signature is") || strstr(err, "not a v1 signature"))
    return "bad-signature";
  if (strstr(err, "no trusted key configured")) return "no-trusted-key";
  if (strstr(err, "built for engine") || strstr(err, "another engine")) return "wrong-engine";
  return "invalid-image";
}
