// Symbol visibility for the thespian shared library: the library is built with hidden
// visibility, and only what is marked THESPIAN_EXPORT is part of its ABI.
#pragma once

#if defined(THESPIAN_BUILDING_LIBRARY)
#define THESPIAN_EXPORT __attribute__((visibility("default")))
#else
#define THESPIAN_EXPORT __attribute__((visibility("default")))
#endif
