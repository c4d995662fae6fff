#include <stdio.h>
#include "train/train.h"
int train_cmd_quantize(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "todo\n"); return 1; }
int train_cmd_eval(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "todo\n"); return 1; }
