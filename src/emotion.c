/* emotion.c - names of the FER2013 emotion classes and the mood figures of
 * a face (negative, valence): their constants live here and nowhere else. */
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

/* Valence weights: where each expression sits on the pleasant-unpleasant
 * axis of Russell's circumplex model of affect (1980): happy is the one clearly pleasant class (+1); surprise is ambiguous,
 * mostly a raised-brows attention face in a classroom, slightly pleasant
 * (+0.2); neutral is the zero; anger and disgust are the most unpleasant
 * (-0.9), sadness and fear a little less (-0.8: lower arousal, and the
 * classifier confuses them with neutral most). */
static const float valence_weight[EMO_NUM_CLASSES] = {
	[EMO_ANGRY] = -0.9f, [EMO_DISGUST] = -0.9f, [EMO_FEAR] = -0.8f, [EMO_HAPPY] = 1.0f,
	[EMO_SAD] = -0.8f,   [EMO_SURPRISE] = 0.2f, [EMO_NEUTRAL] = 0.0f,
};

float emo_class_valence(int cls)
{
	return cls >= 0 && cls < EMO_NUM_CLASSES ? valence_weight[cls] : 0.0f;
}

int emo_face_negative(const float p[EMO_NUM_CLASSES])
{
	float mass = 0.0f;
	int top = 0;

	for (int k = 0; k < EMO_NUM_CLASSES; k++) {
		if (emo_class_is_negative(k))
			mass += p[k];
		if (p[k] > p[top])
			top = k;
	}
	return mass >= EMO_NEGATIVE_MASS && emo_class_is_negative(top);
}

float emo_face_valence(const float p[EMO_NUM_CLASSES])
{
	const float chance = 1.0f / EMO_NUM_CLASSES;
	float v = 0.0f;

	for (int k = 0; k < EMO_NUM_CLASSES; k++)
		if (p[k] > chance)
			v += valence_weight[k] * (p[k] - chance);
	v /= 1.0f - chance;
	return v < -1.0f ? -1.0f : v > 1.0f ? 1.0f : v;
}
