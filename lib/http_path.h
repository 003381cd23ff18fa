/* http_path.h -- URL paths for the dashboard's static files, safely.
 *
 * The HTTP server hands us the raw request path (before any decoding), so
 * every trick is decided here, once: percent-escapes are decoded, an
 * encoded separator (%2F, %5C) or NUL is refused, a ".." segment is refused
 * (never resolved), "." and empty segments collapse. The caller still
 * resolves the result with realpath() and checks it stays under the root
 * (symlinks). Pure: no I/O, no allocation. */
#ifndef PERFLOAD_HTTP_PATH_H
#define PERFLOAD_HTTP_PATH_H

#include <stddef.h>

#define HP_OK         0
#define HP_BAD       -1   /* malformed (bad escape, control byte, too long): 400 */
#define HP_FORBIDDEN -2   /* traversal or encoded separator: 403 */

#define HP_PATH_MAX 1024  /* longest normalised path accepted, with its NUL */

/* Normalises raw[0..len) (a request path starting with '/', no query) into
 * out as "/seg/seg" ("/" for the root), decoded. Returns HP_OK, HP_BAD or
 * HP_FORBIDDEN; out is "" unless HP_OK. */
int hp_normalise(const char *raw, size_t len, char *out, size_t outlen);

/* 1 when a segment of path starts with '.' (dotfiles are never served). */
int hp_has_hidden_segment(const char *path);

/* 1 when the last segment of path has an extension ("/a/b.js"): a missing
 * file like that is a 404, while "/machines/x" falls back to index.html. */
int hp_has_extension(const char *path);

/* The Content-Type for path by its extension, "application/octet-stream"
 * when unknown. Text types carry "; charset=utf-8". */
const char *hp_mime_type(const char *path);

/* 1 when responses of this Content-Type are worth gzipping. */
int hp_mime_compressible(const char *mime);

/* 1 when the Accept-Encoding header value allows gzip (a "gzip" or "*"
 * token without q=0). NULL header: 0. */
int hp_accepts_gzip(const char *accept_encoding);

#endif
