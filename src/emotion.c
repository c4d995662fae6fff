/* emotion.c - names of the FER2013 emotion classes. */
#include <string.h>

#include "emotop/emotion.h"

static const char *const emotion_names[EMO_NUM_CLASSES] = {
	"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral",
};

const char *emo_class_name(int cls)
{
	return cls >= 0 && cls < EMO_NUM_CLASSES ? emotion_names[cls] : "unknown";
}

int emo_class_from_name(const char *name)
{
	for (int i = 0; name && i < EMO_NUM_CLASSES; i++)
		if (!strcmp(name, emotion_names[i]))
			return i;
	return -1;
}

int emo_class_is_negative(int cls)
{
	return cls == EMO_ANGRY || cls == EMO_DISGUST || cls == EMO_FEAR || cls == EMO_SAD;
}
