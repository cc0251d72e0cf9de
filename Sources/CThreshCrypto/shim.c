#include "CThreshCrypto.h"
