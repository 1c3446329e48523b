// CHints is header-only (static inline functions); SwiftPM wants one source file per C target.
#include "CHints.h"
