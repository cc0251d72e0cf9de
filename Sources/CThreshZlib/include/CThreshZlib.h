#ifndef CTHRESH_ZLIB_H
#define CTHRESH_ZLIB_H
#include <zlib.h>

/// inflateInit2 and deflateInit2 are macros in zlib.h; Swift cannot call macros.
static inline int cthresh_inflateInit2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
static inline int cthresh_deflateInit2(z_streamp strm, int level, int windowBits) {
    return deflateInit2(strm, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}
#endif
