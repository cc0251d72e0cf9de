#include "CThreshICU.h"
#include <unicode/uidna.h>
#include <unicode/ucsdet.h>
#include <unicode/uregex.h>
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

void *thresh_icu_regex_open(const char *pattern) {
    UErrorCode status = U_ZERO_ERROR;
    URegularExpression *re = uregex_openC(pattern, 0, NULL, &status);
    if (U_FAILURE(status)) return NULL;
    return re;
}

int32_t thresh_icu_regex_find_all(void *regex, const uint16_t *text, int32_t length, int32_t *pairs, int32_t capacity) {
    URegularExpression *re = (URegularExpression *)regex;
    UErrorCode status = U_ZERO_ERROR;
    uregex_setText(re, (const UChar *)text, length, &status);
    int32_t found = 0;
    while (U_SUCCESS(status) && uregex_findNext(re, &status)) {
        int32_t start = uregex_start(re, 0, &status), end = uregex_end(re, 0, &status);
        if (found < capacity) { pairs[2 * found] = start; pairs[2 * found + 1] = end; }
        found++;
    }
    // Drop the reference to the caller's text before it goes away.
    UErrorCode reset = U_ZERO_ERROR;
    static const UChar empty[1] = {0};
    uregex_setText(re, empty, 0, &reset);
    return U_FAILURE(status) ? -1 : found;
}

void thresh_icu_regex_close(void *regex) { uregex_close((URegularExpression *)regex); }
