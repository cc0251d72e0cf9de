#ifndef CTHRESH_ZSTD_H
#define CTHRESH_ZSTD_H
#define ZSTD_STATIC_LINKING_ONLY_NOT_USED
#include <zstd.h>
#include <zstd_errors.h>
#endif
