/* emotion.h - the 7 FER2013 emotion classes, shared vocabulary. */
#ifndef EMOTOP_EMOTION_H
#define EMOTOP_EMOTION_H

#define EMO_NUM_CLASSES 7

enum emo_class {
	EMO_ANGRY = 0,
	EMO_DISGUST = 1,
	EMO_FEAR = 2,
	EMO_HAPPY = 3,
	EMO_SAD = 4,
	EMO_SURPRISE = 5,
	EMO_NEUTRAL = 6,
};

/* "angry", "disgust", ... for 0..6; "unknown" otherwise. */
const char *emo_class_name(int cls);
/* Index of a name (exact, lower case) or -1. */
int emo_class_from_name(const char *name);
/* Negative emotions for the class summary: angry, disgust, fear, sad. */
int emo_class_is_negative(int cls);

/* The mood figures of a face, from its (calibrated) probabilities p; every
 * constant they use is in emotion.c.
 *
 * emo_face_negative: 1 when the face looks confidently negative: the mass
 * on angry, disgust, fear and sad is at least EMO_NEGATIVE_MASS and the
 * most likely class is one of those four; else 0. An unsure face (near
 * uniform: 4/7 = 0.57 of its mass on the four) or a neutral one is not
 * negative. The class figure `negative_share` is the share of faces that
 * are (over the window, weighted by frames).
 *
 * emo_face_valence: in [-1, 1], neutral and unsure faces at 0:
 * sum over k of emo_class_valence(k) * max(0, p[k] - 1/7) / (6/7), i.e.
 * each class's weight counts only for the probability it has above chance,
 * so a uniform face reads 0 and a certain one its class's weight. */
#define EMO_NEGATIVE_MASS 0.6f
int emo_face_negative(const float p[EMO_NUM_CLASSES]);
float emo_face_valence(const float p[EMO_NUM_CLASSES]);
/* The valence weight of class cls in [-1, 1] (0 for an unknown class). */
float emo_class_valence(int cls);

#endif
