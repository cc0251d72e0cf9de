#include "CThreshZstd.h"
