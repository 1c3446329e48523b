#ifndef CHINTS_H
#define CHINTS_H

/// Asks the CPU to start loading the cache line at `address` for a later write, without waiting
/// for it (GCC/Clang `__builtin_prefetch`; a no-op where unsupported). Swift has no spelling
/// for this: the flow table prefetches the next packet's slot while it counts the current one.
static inline void chints_prefetch_for_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

#endif
