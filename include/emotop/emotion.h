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

#endif
