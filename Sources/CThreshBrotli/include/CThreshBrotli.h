#ifndef CTHRESH_BROTLI_H
#define CTHRESH_BROTLI_H
#include <brotli/decode.h>
#endif
