#include "CThreshISAL.h"
