#ifndef CTHRESH_DEFLATE_H
#define CTHRESH_DEFLATE_H
#include <libdeflate.h>
#endif
