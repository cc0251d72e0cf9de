#ifndef CTHRESH_CRYPTO_H
#define CTHRESH_CRYPTO_H
// libcrypto's (OpenSSL 3) SHA-1 and SHA-256, which use the CPU's SHA instructions where it has them (SHA-NI,
// ARMv8 SHA) and tuned assembly elsewhere. The one-shot-context API is used because its contexts are plain structs:
// Swift keeps them as values, so a copied hash state is a real copy (EVP contexts are heap objects). OpenSSL 3 marks
// that API deprecated, not removed; the wrappers below keep the deprecation inside this module.
#include <stddef.h>
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>

typedef SHA_CTX thresh_sha1_context;
typedef SHA256_CTX thresh_sha256_context;

static inline void thresh_sha1_init(thresh_sha1_context *c) { SHA1_Init(c); }
static inline void thresh_sha1_update(thresh_sha1_context *c, const void *p, size_t n) { SHA1_Update(c, p, n); }
static inline void thresh_sha1_final(thresh_sha1_context *c, unsigned char out[20]) { SHA1_Final(out, c); }
static inline void thresh_sha256_init(thresh_sha256_context *c) { SHA256_Init(c); }
static inline void thresh_sha256_update(thresh_sha256_context *c, const void *p, size_t n) { SHA256_Update(c, p, n); }
static inline void thresh_sha256_final(thresh_sha256_context *c, unsigned char out[32]) { SHA256_Final(out, c); }
#endif
