#ifndef CTHRESH_XML_H
#define CTHRESH_XML_H
// libxml2's HTML parser and tree API. Errors are silenced with HTML_PARSE_NOERROR/NOWARNING, so no
// variadic error callback (which Swift cannot define) is needed.
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#endif
