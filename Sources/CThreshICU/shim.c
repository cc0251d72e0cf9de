#include "CThreshICU.h"
#include <unicode/uidna.h>

// uidna_IDNToASCII is IDNA 2003, the standard Python's codec implements; ICU marks that API deprecated in favour of
// UTS #46, which maps some names differently, so the deprecation is silenced here, for this one call.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
int32_t thresh_idna2003_to_ascii(const uint16_t *src, int32_t length, uint16_t *dest, int32_t capacity) {
    UErrorCode status = U_ZERO_ERROR;
    int32_t n = uidna_IDNToASCII((const UChar *)src, length, (UChar *)dest, capacity, UIDNA_ALLOW_UNASSIGNED, NULL, &status);
    return U_FAILURE(status) ? -1 : n;
}
#pragma GCC diagnostic pop
