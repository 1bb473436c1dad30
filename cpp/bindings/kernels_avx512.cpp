// The avx512 copy of the dispatched kernels (see kernels.hpp).
#define TRACKERR_ISA_NS avx512
#define TRACKERR_KERNELS_TABLE table_avx512
#define TRACKERR_KERNELS_NAME "avx512"
#define TRACKERR_TARGET_AVX512 1
#include "kernels_impl.hpp"
