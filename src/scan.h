/* scan.h - `emotop scan`: faces and emotions in still images, directories
 * of images and recordings, as a table or NDJSON, optionally annotated PNGs. */
#ifndef EMOTOP_SCAN_H
#define EMOTOP_SCAN_H

/* emotop scan [--json] [--annotate DIR] [--min-face N|auto] [--threshold S]
 *             [--interval S] [--model FILE] [--detector-model FILE] PATH...
 * argv[0] is "scan". Directories are read with their sub-folders. Returns
 * the process exit code: 0 when every path was read, 1 when some could not
 * be (each reported on stderr; a directory with no file in it or below
 * too), 2 on bad usage. */
int scan_main(int argc, char **argv);

#endif
