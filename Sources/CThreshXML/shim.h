#ifndef CTHRESH_XML_H
#define CTHRESH_XML_H
// libxml2's HTML parser and tree API. Errors are silenced with HTML_PARSE_NOERROR/NOWARNING, so no
// variadic error callback (which Swift cannot define) is needed.
//
// Debian builds libxml2 with ICU, so its encoding header includes the system ICU headers, whose UErrorCode
// clashes with the ICU that Foundation bundles (_FoundationICU) in any module that sees both. Thresh never
// touches libxml2's encoding handlers (it hands libxml2 UTF-8), so the ICU part of that header is left out:
// the only struct whose layout this changes (xmlCharEncodingHandler) is used through pointers alone.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <libxml/parserInternals.h>
#endif
