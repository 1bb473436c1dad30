// The baseline copy of the dispatched kernels (see kernels.hpp).
#define TRACKERR_ISA_NS baseline
#define TRACKERR_KERNELS_TABLE table_baseline
#define TRACKERR_KERNELS_NAME "baseline"

#include "kernels_impl.hpp"
