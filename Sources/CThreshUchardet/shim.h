// uchardet (Mozilla's universal charset detector, packaged by freedesktop.org): which legacy encoding a page
// without a usable declaration is in.
#include <uchardet/uchardet.h>
