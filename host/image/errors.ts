// The image tool's one error type: a stable code a test or script can match, and a message naming the file or field.

/**
 * Stable codes, one per refusal. Keep the same names when the firmware loader (firmware/image.c)
 * grows its own codes, so a log line and the test that provokes it read alike.
 */
export type ImageErrorCode =
  | 'cpio-header' // bad magic, non-hex field, or a field that must be a fixed value is not
  | 'cpio-truncated' // the archive ends inside a header, name, data or padding
  | 'cpio-padding' // a padding byte is not NUL
  | 'cpio-name' // empty, too long, not NUL-terminated, or holds a NUL
  | 'cpio-duplicate' // the same entry name twice
  | 'cpio-trailer' // no TRAILER!!! entry
  | 'cpio-trailing' // bytes after the trailer other than NUL padding to a 512-byte boundary
  | 'cpio-bound' // over IMAGE_ENTRIES_MAX or IMAGE_BYTES_MAX
  | 'qbc' // a .qbc header or payload is refused
  | 'manifest' // manifest.json (or a template) is not valid JSON or breaks a field rule
  | 'image-order' // entries are not manifest.json, then bundles in manifest order
  | 'image-unlisted' // an entry the manifest does not list
  | 'image-missing' // a bundle the manifest lists is absent
  | 'image-hash' // a bundle's size or sha256 differs from its manifest entry
  | 'image-engine' // bundles disagree on the engine, or disagree with the manifest / cohc
  | 'image-signature' // manifest.sig is malformed, by an untrusted key, or does not verify over manifest.json
  | 'image-unsigned' // no manifest.sig where one is required (release profile, or a trusted key is given)
  | 'image-policy' // a release image checked without a trusted key
  | 'key' // a key file is missing, malformed, of the wrong kind, or would be overwritten
  | 'flash' // a flash target is refused, or the read-back differs from the image
  | 'slots' // a slot folder or its state record is refused
  | 'io'; // a file could not be read, written, or a tool could not be run

export class ImageError extends Error {
  override readonly name = 'ImageError';
  constructor(
    readonly code: ImageErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isImageError(e: unknown): e is ImageError {
  return e instanceof ImageError;
}
