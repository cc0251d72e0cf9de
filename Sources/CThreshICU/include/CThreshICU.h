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

/// A compiled ICU regular expression (uregex), or NULL when the UTF-8 pattern does not compile. One handle serves
/// one thread at a time.
void *thresh_icu_regex_open(const char *pattern);

/// Every non-overlapping match of `regex` in the UTF-16 `text`, left to right: up to `capacity` (start, end) pairs
/// of UTF-16 offsets written to `pairs`; returns how many matches there are (more than `capacity` means call again
/// with room for them), or -1 on an ICU error.
int32_t thresh_icu_regex_find_all(void *regex, const uint16_t *text, int32_t length, int32_t *pairs, int32_t capacity);

void thresh_icu_regex_close(void *regex);
#endif
