// The per-instruction-set namespace of the library.
//
// Every declaration of trackerr lives in an inline namespace named by
// TRACKERR_ISA_NS (by default `generic`). Code using the headers never names
// it: trackerr::rolling finds trackerr::generic::rolling. Its purpose is to let
// one program hold several copies of the kernels compiled for different
// instruction sets (the Python extension compiles them for baseline x86-64,
// AVX2 and AVX-512 and picks one at run time): each copy defines
// TRACKERR_ISA_NS before including the headers, so its inline functions and
// template instantiations get their own mangled names, and the linker can
// never substitute an AVX2 body for a baseline one (an ODR violation that
// would crash a CPU without AVX2).
#pragma once

#ifndef TRACKERR_ISA_NS
#define TRACKERR_ISA_NS generic
#endif

#define TRACKERR_ISA_BEGIN inline namespace TRACKERR_ISA_NS {
#define TRACKERR_ISA_END }
