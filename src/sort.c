/* sort.c - in-place heapsort (see sort.h). */
#include <string.h>

#include "sort.h"

static void swap_bytes(unsigned char *a, unsigned char *b, size_t size)
{
	unsigned char t[64];

	while (size) {
		size_t k = size < sizeof(t) ? size : sizeof(t);

		memcpy(t, a, k);
		memcpy(a, b, k);
		memcpy(b, t, k);
		a += k;
		b += k;
		size -= k;
	}
}

/* Restore the heap below i (the root comes last in the order). */
static void sift(unsigned char *a, size_t i, size_t n, size_t size,
		 int (*before)(const void *, const void *))
{
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			return;
		if (c + 1 < n && before(a + c * size, a + (c + 1) * size))
			c++;
		if (!before(a + i * size, a + c * size))
			return;
		swap_bytes(a + i * size, a + c * size, size);
		i = c;
	}
}

void emo_sort(void *base, size_t n, size_t size, int (*before)(const void *a, const void *b))
{
	unsigned char *a = base;

	if (!a || n < 2 || !size || !before)
		return;
	for (size_t i = n / 2; i-- > 0;)
		sift(a, i, n, size, before);
	for (size_t k = n - 1; k > 0; k--) {
		swap_bytes(a, a + k * size, size);
		sift(a, 0, k, size, before);
	}
}
