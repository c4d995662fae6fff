/* blob.h - the models embedded in the binary (see src/model_blob.S).
 * Length 0 means the build had no such model in models/. */
#ifndef EMOTOP_BLOB_H
#define EMOTOP_BLOB_H

extern const unsigned char emo_blob_emo7[], emo_blob_emo7_end[];
/* a second classifier, averaged with emo7 (an ensemble) when present */
extern const unsigned char emo_blob_emo7b[], emo_blob_emo7b_end[];
extern const unsigned char emo_blob_face[], emo_blob_face_end[];

#endif
