#include "CThreshDeflate.h"
