// MinHash kernels. The AVX-512 path is compiled with a per-function target attribute and chosen at run time, so
// the binary still runs on any x86-64 (and other architectures build only the portable loop).
#include "CThreshKernels.h"

#define PRIME61 ((uint64_t)0x1FFFFFFFFFFFFFFFULL)

static inline uint64_t reduce61(uint64_t v) {
    uint64_t r = (v & PRIME61) + (v >> 61);
    return r >= PRIME61 ? r - PRIME61 : r;
}

void thresh_minhash64_signature_portable(const uint64_t *a, const uint64_t *b, size_t permutations,
                                         const uint64_t *x, size_t count, uint64_t *out) {
    for (size_t k = 0; k < permutations; k++) {
        const uint64_t ak = a[k], bk = b[k];
        uint64_t m = UINT64_MAX;
        for (size_t i = 0; i < count; i++) {
            uint64_t h = reduce61(ak * x[i] + bk);
            m = h < m ? h : m;
        }
        out[k] = m;
    }
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define THRESH_HAVE_AVX512 1

// One step for eight permutations: h = reduce61(a*x + b); m = min(m, h). The conditional subtraction of the
// reduction is min(r, r - p): when r < p, r - p wraps to a huge value and r wins.
#define STEP(m, va, vb, vx, vp)                                                        \
    do {                                                                               \
        __m512i v_ = _mm512_add_epi64(_mm512_mullo_epi64(va, vx), vb);                 \
        __m512i r_ = _mm512_add_epi64(_mm512_and_si512(v_, vp), _mm512_srli_epi64(v_, 61)); \
        r_ = _mm512_min_epu64(r_, _mm512_sub_epi64(r_, vp));                           \
        m = _mm512_min_epu64(m, r_);                                                   \
    } while (0)

__attribute__((target("avx512f,avx512dq")))
static void signature_avx512(const uint64_t *a, const uint64_t *b, size_t permutations,
                             const uint64_t *x, size_t count, uint64_t *out) {
    const __m512i vp = _mm512_set1_epi64((long long)PRIME61);
    size_t k = 0;
    // Blocks of 32 permutations: four accumulators hide the multiply's latency, and each shingle is broadcast once.
    for (; k + 32 <= permutations; k += 32) {
        __m512i a0 = _mm512_loadu_si512(a + k), a1 = _mm512_loadu_si512(a + k + 8);
        __m512i a2 = _mm512_loadu_si512(a + k + 16), a3 = _mm512_loadu_si512(a + k + 24);
        __m512i b0 = _mm512_loadu_si512(b + k), b1 = _mm512_loadu_si512(b + k + 8);
        __m512i b2 = _mm512_loadu_si512(b + k + 16), b3 = _mm512_loadu_si512(b + k + 24);
        __m512i m0 = _mm512_set1_epi64(-1), m1 = m0, m2 = m0, m3 = m0;
        for (size_t i = 0; i < count; i++) {
            __m512i vx = _mm512_set1_epi64((long long)x[i]);
            STEP(m0, a0, b0, vx, vp);
            STEP(m1, a1, b1, vx, vp);
            STEP(m2, a2, b2, vx, vp);
            STEP(m3, a3, b3, vx, vp);
        }
        _mm512_storeu_si512(out + k, m0);
        _mm512_storeu_si512(out + k + 8, m1);
        _mm512_storeu_si512(out + k + 16, m2);
        _mm512_storeu_si512(out + k + 24, m3);
    }
    for (; k + 8 <= permutations; k += 8) {
        __m512i a0 = _mm512_loadu_si512(a + k), b0 = _mm512_loadu_si512(b + k);
        __m512i m0 = _mm512_set1_epi64(-1);
        for (size_t i = 0; i < count; i++) {
            __m512i vx = _mm512_set1_epi64((long long)x[i]);
            STEP(m0, a0, b0, vx, vp);
        }
        _mm512_storeu_si512(out + k, m0);
    }
    if (k < permutations)
        thresh_minhash64_signature_portable(a + k, b + k, permutations - k, x, count, out + k);
}

static int has_avx512(void) {
    // __builtin_cpu_supports also checks that the OS saves the ZMM state (XGETBV), not only the CPUID bits.
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
}
#endif

typedef void (*signature_fn)(const uint64_t *, const uint64_t *, size_t, const uint64_t *, size_t, uint64_t *);

static signature_fn choose(void) {
#ifdef THRESH_HAVE_AVX512
    if (has_avx512()) return signature_avx512;
#endif
    return thresh_minhash64_signature_portable;
}

void thresh_minhash64_signature(const uint64_t *a, const uint64_t *b, size_t permutations,
                                const uint64_t *x, size_t count, uint64_t *out) {
    // A racy first call just computes the same pointer twice; the store is a single aligned word.
    static signature_fn chosen = 0;
    signature_fn fn = __atomic_load_n(&chosen, __ATOMIC_RELAXED);
    if (!fn) { fn = choose(); __atomic_store_n(&chosen, fn, __ATOMIC_RELAXED); }
    fn(a, b, permutations, x, count, out);
}

const char *thresh_minhash64_kernel(void) {
#ifdef THRESH_HAVE_AVX512
    if (has_avx512()) return "avx512";
#endif
    return "portable";
}
