/* scan_font.h - a 5 x 7 bitmap font for the labels of annotated frames
 * (`emotop scan --annotate`, `emotop --annotate`). App code. */
#ifndef EMOTOP_SCAN_FONT_H
#define EMOTOP_SCAN_FONT_H

#include <stdint.h>

#define SCAN_FONT_W 5   /* glyph columns; a character advances 6 */
#define SCAN_FONT_H 7

/* The glyph of c (letters in either case, digits, space and . ? # - _):
 * SCAN_FONT_H rows, bit 4 the leftmost column; NULL when there is none
 * (the caller leaves a gap). Static data. */
const uint8_t *scan_font_glyph(int c);

#endif
