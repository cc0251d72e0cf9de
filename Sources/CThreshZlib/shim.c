#include "CThreshZlib.h"
