/* sort.h - an in-place heapsort for the per-frame paths: glibc's qsort
 * allocates a buffer once an array passes about a kilobyte, and a frame
 * allocates nothing. O(n log n), not stable. */
#ifndef EMOTOP_SORT_H
#define EMOTOP_SORT_H

#include <stddef.h>

/* Sort the n elements of size bytes at base so that no element comes after
 * one it is before(a, b) (before: a strict order, e.g. higher score). */
void emo_sort(void *base, size_t n, size_t size, int (*before)(const void *a, const void *b));

#endif
