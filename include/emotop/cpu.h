/* cpu.h - CPU model string and the SIMD features the kernels may use
 * (cpuid plus the OS xsave check), for kernel dispatch and benchmarks. */
#ifndef EMOTOP_CPU_H
#define EMOTOP_CPU_H

struct cpu_info {
	char model[64];   /* brand string, "unknown" when cpuid has none */
	int avx2;         /* AVX2 + FMA, and the OS saves ymm state */
	int avx512;       /* AVX-512 F/BW/VL, and the OS saves zmm state */
	int avx512vnni;   /* avx512 and AVX512_VNNI (vpdpbusd) */
};

/* Fill *ci for the CPU this runs on. Cheap; no global state. */
void cpu_detect(struct cpu_info *ci);

#endif
