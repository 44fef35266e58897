/* The boot image: strict CPIO newc reading and verification of every entry before anything runs. */
#ifndef COHESIX_FIRMWARE_IMAGE_H
#define COHESIX_FIRMWARE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "image_sig.h"
#include "manifest.h"

/* Kept in sync with docs/image-format.md and host/image/cpio.ts. */
#define IMAGE_BYTES_MAX (16u << 20)
#define IMAGE_ENTRIES_MAX 64u
#define IMAGE_NAME_BYTES_MAX 64u
#define CPIO_HEADER_BYTES 110u
#define CPIO_BLOCK_BYTES 512u

typedef struct ImageEntry {
  char name[IMAGE_NAME_BYTES_MAX + 1];
  const uint8_t *data;
  size_t len;
} ImageEntry;

typedef struct Image {
  ImageEntry entries[IMAGE_ENTRIES_MAX];
  unsigned count; /* trailer excluded */
  int is_signed;  /* set by image_open: manifest.sig verified */
  char signer_id[IMAGE_KEY_ID_HEX_DIGITS + 1];
} Image;

/* Reads the archive strictly; -1 with a message on any deviation from the format. */
int image_read_cpio(const uint8_t *buf, size_t len, Image *img, char *err, size_t err_len);
/* Reads the archive, checks manifest.sig (when present) against `trust`, parses the manifest, applies the
   profile rules (release: signed by the trusted key), and checks every bundle (size, sha256, .qbc header,
   engine) and the entry list and order. On success m's tasks point at their verified bytecode inside buf.
   trust may be NULL (no trusted key). */
int image_open(const uint8_t *buf, size_t len, const ImageTrust *trust, Image *img, Manifest *m, char *err,
               size_t err_len);
const ImageEntry *image_entry(const Image *img, const char *name);
/* The stable tag of a refusal image_open wrote into err (over-the-air updates answer with it):
   bad-signature, untrusted-key, unsigned, no-trusted-key, wrong-engine, or invalid-image. Kept here,
   beside the messages it reads, so a reworded message and its tag change together (test_image.c). */
const char *image_refusal_tag(const char *err);

#endif
