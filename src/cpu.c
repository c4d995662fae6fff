/* cpu.c - cpuid/xgetbv feature detection and the CPU brand string. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "emotop/cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t cpu_xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

void cpu_detect(struct cpu_info *ci)
{
	unsigned a, b, c, d, max, maxext;
	uint64_t xcr0 = 0;
	int osxsave, ymm_ok, zmm_ok;

	memset(ci, 0, sizeof(*ci));
	snprintf(ci->model, sizeof(ci->model), "unknown");
	max = __get_cpuid_max(0, NULL);
	if (max < 1)
		return;
	__cpuid(1, a, b, c, d);
	osxsave = (c >> 27) & 1;
	int fma = (c >> 12) & 1, avx = (c >> 28) & 1;
	if (osxsave)
		xcr0 = cpu_xgetbv0();
	ymm_ok = osxsave && avx && (xcr0 & 0x6) == 0x6;
	zmm_ok = ymm_ok && (xcr0 & 0xe0) == 0xe0;
	if (max >= 7) {
		__cpuid_count(7, 0, a, b, c, d);
		int avx2 = (b >> 5) & 1;
		int f = (b >> 16) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
		int vnni = (c >> 11) & 1;
		ci->avx2 = ymm_ok && avx2 && fma;
		ci->avx512 = ci->avx2 && zmm_ok && f && bw && vl;
		ci->avx512vnni = ci->avx512 && vnni;
	}
	maxext = __get_cpuid_max(0x80000000, NULL);
	if (maxext >= 0x80000004) {
		uint32_t r[12];
		char s[49];
		for (unsigned i = 0; i < 3; i++)
			__cpuid(0x80000002 + i, r[4 * i], r[4 * i + 1], r[4 * i + 2], r[4 * i + 3]);
		memcpy(s, r, 48);
		s[48] = '\0';
		char *p = s;
		while (*p == ' ')
			p++;
		size_t n = strlen(p);
		while (n && p[n - 1] == ' ')
			p[--n] = '\0';
		if (*p)
			snprintf(ci->model, sizeof(ci->model), "%s", p);
	}
}
#else
void cpu_detect(struct cpu_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	snprintf(ci->model, sizeof(ci->model), "unknown");
}
#endif
