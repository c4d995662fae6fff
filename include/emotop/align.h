/* align.h - a face of a frame cut out with the framing of FER2013 faces:
 * square, about the face's height, eyes level. The emotion classifier and
 * the detector's verifier both read faces this way.
 */
#ifndef EMOTOP_ALIGN_H
#define EMOTOP_ALIGN_H

#include "emotop/detect.h"
#include "emotop/image.h"

/* Fill crop (allocated by the caller, any size; square for FER2013 models)
 * with face as it sits in frame: a square of ALIGN_BOX_SCALE box sides,
 * centred ALIGN_BOX_DY sides above the box centre, turned upright by the
 * angle of the face's landmarks when it has all five. Returns EMO_OK, or
 * EMO_EINVAL for a missing image or a box that is not finite and positive
 * (crop unchanged). */
int face_align(const struct emo_image *frame, const struct emo_face *face, struct emo_image *crop);
/* The same with at most max_ss samples per axis and crop pixel when the
 * face is larger than the crop (face_align: IMAGE_MAX_SS, the classifier's;
 * the detector's verifier uses DETECT_VERIFY_SS, cheaper on large faces). */
int face_align_ss(const struct emo_image *frame, const struct emo_face *face, struct emo_image *crop,
		  int max_ss);

#endif
