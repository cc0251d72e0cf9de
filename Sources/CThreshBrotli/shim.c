#include "CThreshBrotli.h"
