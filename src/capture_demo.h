/* capture_demo.h - the demo source's frames (capture_demo.c), for capture.c
 * only: not a public header. */
#ifndef EMOTOP_CAPTURE_DEMO_H
#define EMOTOP_CAPTURE_DEMO_H

#include "emotop/image.h"

#define DEMO_W 640
#define DEMO_H 480
#define DEMO_FPS 15.0

/* Draw the demo frame at time t (seconds) into img, a gray image of
 * DEMO_W x DEMO_H the caller owns; every pixel is written. */
void demo_render(double t, struct emo_image *img);

#endif
