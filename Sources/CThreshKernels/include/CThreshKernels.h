#ifndef CTHRESH_KERNELS_H
#define CTHRESH_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// MinHash signature over 64-bit shingle hashes: for each permutation k,
/// out[k] = min over i of reduce61(a[k] * x[i] + b[k]) with the product and sum wrapping at 64 bits and
/// reduce61(v) = v mod (2^61 - 1). out[k] = UINT64_MAX when count is 0.
/// Uses AVX-512 (F + DQ) when the CPU and OS support it, else a portable loop; both give identical values.
void thresh_minhash64_signature(const uint64_t *a, const uint64_t *b, size_t permutations,
                                const uint64_t *x, size_t count, uint64_t *out);

/// Which implementation `thresh_minhash64_signature` uses on this machine: "avx512" or "portable".
const char *thresh_minhash64_kernel(void);

/// The portable loop, always available (tests compare it with the dispatched one).
void thresh_minhash64_signature_portable(const uint64_t *a, const uint64_t *b, size_t permutations,
                                         const uint64_t *x, size_t count, uint64_t *out);

#endif
