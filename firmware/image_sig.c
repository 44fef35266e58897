/* Image signatures (format v1): checks manifest.sig with Monocypher's Ed25519 before the manifest is parsed. */
#include "image_sig.h"

#include <stdio.h>
#include <string.h>

#include "error_text.h"
#include "monocypher-ed25519.h"
#include "sha256.h"

/* Every refusal here reads "image: <detail>". */
#define fail(err, err_len, ...) error_text((err), (err_len), "image: ", __VA_ARGS__)

void image_key_id(const uint8_t key[IMAGE_SIG_KEY_BYTES], char out[IMAGE_KEY_ID_HEX_DIGITS + 1]) {
  uint8_t digest[SHA256_DIGEST_BYTES];
  char hex[SHA256_HEX_BYTES];
  sha256(key, IMAGE_SIG_KEY_BYTES, digest);
  sha256_hex(digest, hex);
  memcpy(out, hex, IMAGE_KEY_ID_HEX_DIGITS);
  out[IMAGE_KEY_ID_HEX_DIGITS] = 0;
}

int image_pubkey_parse(const char *text, size_t len, uint8_t key[IMAGE_SIG_KEY_BYTES], char *err, size_t err_len) {
  const size_t prefix = sizeof IMAGE_PUBKEY_FILE_PREFIX - 1;
  const size_t body = prefix + IMAGE_SIG_KEY_BYTES * 2;
  if (len != body && !(len == body + 1 && text[body] == '\n'))
    return fail(err, err_len, "public key file must be one line '%s<64 hex digits>' (%zu bytes)", IMAGE_PUBKEY_FILE_PREFIX, len);
  if (memcmp(text, IMAGE_PUBKEY_FILE_PREFIX, prefix) != 0)
    return fail(err, err_len, "public key file does not start with '%s'", IMAGE_PUBKEY_FILE_PREFIX);
  for (unsigned i = 0; i < IMAGE_SIG_KEY_BYTES; i++) {
    unsigned v = 0;
    for (unsigned k = 0; k < 2; k++) {
      char c = text[prefix + i * 2 + k];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
      else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
      else return fail(err, err_len, "public key file: the key must be 64 lowercase hex digits");
    }
    key[i] = (uint8_t)v;
  }
  return 0;
}

int image_sig_check(const uint8_t *manifest, size_t manifest_len, const uint8_t *sig, size_t sig_len,
                    const ImageTrust *trust, char signer_id[IMAGE_KEY_ID_HEX_DIGITS + 1], char *err, size_t err_len) {
  signer_id[0] = 0;
  if (sig_len != IMAGE_SIG_BYTES)
    return fail(err, err_len, "%s: %zu bytes, a v1 signature is %u", IMAGE_SIG_ENTRY_NAME, sig_len, IMAGE_SIG_BYTES);
  if (memcmp(sig, IMAGE_SIG_MAGIC, IMAGE_SIG_MAGIC_BYTES) != 0)
    return fail(err, err_len, "%s: no %s magic (not a v1 signature)", IMAGE_SIG_ENTRY_NAME, IMAGE_SIG_MAGIC);
  const uint8_t *key = sig + IMAGE_SIG_MAGIC_BYTES;
  const uint8_t *signature = key + IMAGE_SIG_KEY_BYTES;
  image_key_id(key, signer_id);
  if (trust && trust->has_key && memcmp(key, trust->key, IMAGE_SIG_KEY_BYTES) != 0) {
    char trusted[IMAGE_KEY_ID_HEX_DIGITS + 1];
    image_key_id(trust->key, trusted);
    return fail(err, err_len, "signature: signed by key %s, this firmware trusts only key %s", signer_id, trusted);
  }
  if (crypto_ed25519_check(signature, key, manifest, manifest_len) != 0)
    return fail(err, err_len, "signature: Ed25519 signature by key %s does not verify over manifest.json (manifest or signature altered)",
                signer_id);
  return 0;
}
