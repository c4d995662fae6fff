/* blob.h - the models embedded in the binary (see src/model_blob.S).
 * Length 0 means the build had no such model in models/. */
#ifndef EMOTOP_BLOB_H
#define EMOTOP_BLOB_H

#include <stddef.h>

extern const unsigned char emo_blob_emo7[], emo_blob_emo7_end[];
/* more classifiers, averaged with emo7 (an ensemble) when present */
extern const unsigned char emo_blob_emo7b[], emo_blob_emo7b_end[];
extern const unsigned char emo_blob_emo7c[], emo_blob_emo7c_end[];
extern const unsigned char emo_blob_face[], emo_blob_face_end[];
extern const unsigned char emo_blob_faceverify[], emo_blob_faceverify_end[];


/* One embedded model (static data, never freed). */
struct emo_blob {
	const unsigned char *data;
	size_t len;       /* 0: this build has no such model */
	const char *name; /* "emo7", "emo7b", "emo7c", "face", "faceverify" */
	int classifier;   /* 1: an emotion classifier, 0: the face detector or its verifier */
};

/* Most entries emo_blobs() fills. */
#define EMO_MAX_BLOBS 8

/* Fill out[0..max) with the embedded models, classifiers first in ensemble
 * order, then the detector (absent ones with len 0); returns the count. */
int emo_blobs(struct emo_blob *out, int max);

#endif
