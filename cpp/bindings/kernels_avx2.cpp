// The avx2 copy of the dispatched kernels (see kernels.hpp).
#define TRACKERR_ISA_NS avx2
#define TRACKERR_KERNELS_TABLE table_avx2
#define TRACKERR_KERNELS_NAME "avx2"
#define TRACKERR_TARGET_AVX2 1
#include "kernels_impl.hpp"
