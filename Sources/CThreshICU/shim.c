#include "CThreshICU.h"
#include <unicode/uidna.h>
#include <unicode/ucsdet.h>
#include <string.h>

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

int32_t thresh_icu_detect_charset(const char *bytes, int32_t length, char *name, int32_t capacity) {
    UErrorCode status = U_ZERO_ERROR;
    UCharsetDetector *detector = ucsdet_open(&status);
    if (U_FAILURE(status)) return -1;
    ucsdet_setText(detector, bytes, length, &status);
    const UCharsetMatch *match = U_SUCCESS(status) ? ucsdet_detect(detector, &status) : NULL;
    int32_t confidence = -1;
    if (match != NULL && U_SUCCESS(status)) {
        const char *found = ucsdet_getName(match, &status);
        if (U_SUCCESS(status) && found != NULL && (int32_t)strlen(found) < capacity) {
            strcpy(name, found);
            confidence = ucsdet_getConfidence(match, &status);
        }
    }
    ucsdet_close(detector);
    return U_SUCCESS(status) ? confidence : -1;
}
