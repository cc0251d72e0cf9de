#ifndef CTHRESH_ICU_H
#define CTHRESH_ICU_H
// ICU (libicuuc, libicui18n): IDNA 2003 host names for SURT keys, as Python's `idna` codec (which the surt package
// uses) makes them. ICU renames its C functions per version with macros Swift cannot call, so they are wrapped here.
#include <stdint.h>

/// ToASCII (RFC 3490, nameprep with unassigned code points allowed, no STD3 rules) of a UTF-16 domain name into
/// `dest`; returns its length, or -1 when ICU refuses the name (an empty or too long label, a prohibited character).
int32_t thresh_idna2003_to_ascii(const uint16_t *src, int32_t length, uint16_t *dest, int32_t capacity);

/// ICU's charset detector (ucsdet) over `length` bytes: the name of its best match written to `name` (NUL-terminated,
/// at most `capacity` bytes) with its confidence (0-100) returned, or -1 when it finds none.
int32_t thresh_icu_detect_charset(const char *bytes, int32_t length, char *name, int32_t capacity);
#endif
