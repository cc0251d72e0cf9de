#include "CThreshLz4.h"
