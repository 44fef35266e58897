/* Image signatures (format v1): the manifest.sig entry, key ids and trusted public key files. */
#ifndef COHESIX_FIRMWARE_IMAGE_SIG_H
#define COHESIX_FIRMWARE_IMAGE_SIG_H

#include <stddef.h>
#include <stdint.h>

/* Kept in sync with docs/image-format.md and host/image/sign.ts. */
#define IMAGE_SIG_ENTRY_NAME "manifest.sig"
/* manifest.sig: 8-byte magic, 32-byte Ed25519 public key, 64-byte signature over manifest.json's bytes. */
#define IMAGE_SIG_MAGIC "COHSIGv1"
#define IMAGE_SIG_MAGIC_BYTES 8u
#define IMAGE_SIG_KEY_BYTES 32u
#define IMAGE_SIG_SIGNATURE_BYTES 64u
#define IMAGE_SIG_BYTES (IMAGE_SIG_MAGIC_BYTES + IMAGE_SIG_KEY_BYTES + IMAGE_SIG_SIGNATURE_BYTES)
/* A key id is the first 8 bytes of SHA-256(public key), printed as 16 hex digits. */
#define IMAGE_KEY_ID_HEX_DIGITS 16u
/* A public key file: this prefix, 64 lowercase hex digits, one optional newline. */
#define IMAGE_PUBKEY_FILE_PREFIX "cohesix-pubkey ed25519 "
#define IMAGE_PUBKEY_FILE_BYTES_MAX 128u

/* What the firmware trusts. No key: dev images may boot unsigned or self-signed; release images never boot. */
typedef struct ImageTrust {
  int has_key;
  uint8_t key[IMAGE_SIG_KEY_BYTES];
} ImageTrust;

void image_key_id(const uint8_t key[IMAGE_SIG_KEY_BYTES], char out[IMAGE_KEY_ID_HEX_DIGITS + 1]);
/* Parses a public key file's text; -1 with a message naming what is wrong. */
int image_pubkey_parse(const char *text, size_t len, uint8_t key[IMAGE_SIG_KEY_BYTES], char *err, size_t err_len);
/* Checks manifest.sig against the manifest bytes: layout, the trusted key (when set), then Ed25519.
   Fills signer_id with the signer's key id. Returns 0, or -1 with a message naming what failed. */
int image_sig_check(const uint8_t *manifest, size_t manifest_len, const uint8_t *sig, size_t sig_len,
                    const ImageTrust *trust, char signer_id[IMAGE_KEY_ID_HEX_DIGITS + 1], char *err, size_t err_len);

#endif
