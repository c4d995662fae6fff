/* model_blob.S - the shipped models, embedded so emotop runs with no
 * external files. Each model present in models/ at build time defines
 * emo_blob_<name> and emo_blob_<name>_end; absent ones are empty. */
#define BLOB(name, path) \
	.section .rodata; .balign 64; .global emo_blob_##name; .global emo_blob_##name##_end; \
	emo_blob_##name: .incbin path; emo_blob_##name##_end:
#define EMPTY(name) \
	.section .rodata; .global emo_blob_##name; .global emo_blob_##name##_end; \
	emo_blob_##name: emo_blob_##name##_end:

#if defined(HAVE_MODEL_emo7)
BLOB(emo7, "models/emo7.qnn")
#else
EMPTY(emo7)
#endif
#if defined(HAVE_MODEL_emo7b)
BLOB(emo7b, "models/emo7b.qnn")
#else
EMPTY(emo7b)
#endif
#if defined(HAVE_MODEL_emo7c)
BLOB(emo7c, "models/emo7c.qnn")
#else
EMPTY(emo7c)
#endif
#if defined(HAVE_MODEL_face)
BLOB(face, "models/face.qnn")
#else
EMPTY(face)
#endif
#if defined(HAVE_MODEL_faceverify)
BLOB(faceverify, "models/faceverify.qnn")
#else
EMPTY(faceverify)
#endif
	.section .note.GNU-stack,"",@progbits
