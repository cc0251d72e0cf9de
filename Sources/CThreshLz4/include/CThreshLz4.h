#ifndef CTHRESH_LZ4_H
#define CTHRESH_LZ4_H
// liblz4's frame format (magic 04 22 4D 18), which lz4-compressed WARCs use one frame per record, as FastWARC reads
// them.
#include <lz4frame.h>
#endif
