#ifndef CTHRESH_ISAL_H
#define CTHRESH_ISAL_H
// ISA-L's CRC32 (gzip polynomial), dispatched at run time to its carry-less multiply kernels
// (VPCLMULQDQ over 512-bit registers where the CPU has them): about twice libdeflate 1.14's speed.
#include <isa-l/crc.h>
#endif
