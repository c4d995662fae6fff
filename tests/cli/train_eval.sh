#!/bin/sh
# train_eval.sh - emotop-train on real and damaged input: the shipped
# classifier's int8 accuracy on FER2013's public test split is at least the
# README's figure minus 0.5 point; eval --json has the documented keys; a
# tiny training run on a generated CSV writes a checkpoint that quantize
# turns into a model eval accepts; bad input gives clear errors.
. tests/cli/cli_lib.inc
TRAIN=${EMOTOP_TRAIN:-build/emotop-train}
SHARED=${SHARED:-../shared}
# absolute: the small face set below links to it from inside $T
case $SHARED in /*) ;; *) SHARED=$(pwd)/$SHARED ;; esac
FER=$SHARED/data/fer2013

# --help: the usage on stdout (for a pager), exit 0, for every command
for c in "" fer quantize eval robust grow average detect "detect train" "detect eval"; do
	# shellcheck disable=SC2086
	"$TRAIN" $c --help >"$T/help.out" 2>"$T/help.err"; rc=$?
	if [ "$rc" -eq 0 ] && grep -q '^usage: emotop-train' "$T/help.out" && [ ! -s "$T/help.err" ]; then
		ok "emotop-train $c --help: stdout, exit 0"
	else
		no "emotop-train $c --help: stdout, exit 0" "exit $rc" "$(head -c 200 "$T/help.err")"
	fi
done

# the accuracy the README states, e.g. "int8 accuracy ... **64.12 %**"
readme_acc=$(sed -n 's/.*int8 accuracy on the FER2013 public test split[^*]*\*\*\([0-9.]*\) %\*\*.*/\1/p' README.md | head -n 1)

if [ -d "$FER/test" ] && [ -n "$readme_acc" ]; then
	if "$TRAIN" eval --data "$FER" --json >"$T/eval.json" 2>"$T/err"; then
		got=$(python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["accuracy"] * 100))' "$T/eval.json")
		if python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) - 0.5 else 1)' "$got" "$readme_acc"; then
			ok "shipped model: $got % >= README $readme_acc % - 0.5"
		else
			no "shipped model accuracy" "measured $got %, README states $readme_acc %"
		fi
		py_check "eval --json keys and confusion" "$(head -c 300 "$T/eval.json")" "$T/eval.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert set(("accuracy", "macro_recall", "per_class", "predicted_ratio", "ece", "nll", "confusion")) <= set(d)
assert 0 <= d["ece"] < 0.2 and 0 < d["nll"] < 3
assert len(d["per_class"]) == 7 and len(d["confusion"]) == 7
assert all(len(r) == 7 for r in d["confusion"])
assert sum(map(sum, d["confusion"])) == d["n"] == 3589
diag = sum(d["confusion"][i][i] for i in range(7))
assert abs(diag / d["n"] - d["accuracy"]) < 1e-3
PY
	else
		no "eval of the shipped model" "$(head -c 400 "$T/err")"
	fi
else
	skip "shipped model accuracy: FER2013 not found at $FER (or no figure in README.md)"
fi

# a tiny CSV in Kaggle's format: 3 classes of synthetic faces
python3 - "$T/tiny.csv" <<'PY'
import random, sys
random.seed(1)
with open(sys.argv[1], "w") as f:
    f.write("emotion,pixels,Usage\n")
    for i in range(96):
        c = [0, 3, 5][i % 3]
        px = []
        for y in range(48):
            for x in range(48):
                v = 60 + random.randint(0, 40)
                if c == 0 and 20 <= y < 28: v = 230
                if c == 3 and 20 <= x < 28: v = 230
                if c == 5 and abs(x - y) < 4: v = 230
                px.append(str(v))
        f.write("%d,%s,%s\n" % (c, " ".join(px), "PublicTest" if i % 4 == 0 else "Training"))
PY
expect_rc "train on a tiny CSV" 0 env OMP_NUM_THREADS=1 "$TRAIN" fer --data "$T/tiny.csv" --arch c4,p,c8,p,f8,o7 \
	--epochs 2 --batch 16 --ckpt "$T/tiny.ckpt"
[ -f "$T/tiny.ckpt" ] && [ -f "$T/tiny.ckpt.best" ] && [ -f "$T/tiny.ckpt.log" ] && ok "checkpoint, best and log written" ||
	no "checkpoint files" "$(ls "$T")"
expect_rc "resume past the last epoch is a no-op" 0 env OMP_NUM_THREADS=1 "$TRAIN" fer --data "$T/tiny.csv" \
	--arch c4,p,c8,p,f8,o7 --epochs 2 --batch 16 --ckpt "$T/tiny.ckpt" --resume
contains "resume says where it starts" "$T/err" "resumed"
expect_rc "quantize the tiny checkpoint" 0 env OMP_NUM_THREADS=1 "$TRAIN" quantize --ckpt "$T/tiny.ckpt" \
	--data "$T/tiny.csv" --out "$T/tiny.qnn" --calib 50
contains "quantize reports float and int8" "$T/out" "int8"
contains "quantize reports the calibration" "$T/out" "expected calibration error"
if grep -a -q "temperature=[0-9]" "$T/tiny.qnn" && ! grep -a -q "input_blur" "$T/tiny.qnn"; then
	ok "the model carries its temperature, and no input blur"
else
	no "the model's temperature" "meta temperature= missing or input_blur present"
fi
expect_rc "quantize with a given temperature" 0 env OMP_NUM_THREADS=1 "$TRAIN" quantize --ckpt "$T/tiny.ckpt" \
	--data "$T/tiny.csv" --out "$T/tiny2.qnn" --calib 50 --temperature 2.5
grep -a -q "temperature=2.5000" "$T/tiny2.qnn" && ok "--temperature is written as given" ||
	no "--temperature" "temperature=2.5000 not in the model"
expect_rc "quantize --temperature 0 refused" 2 "$TRAIN" quantize --ckpt "$T/tiny.ckpt" --data "$T/tiny.csv" \
	--out "$T/x.qnn" --temperature 0
! grep -a -q "logit_bias" "$T/tiny.qnn" && ok "no class bias by default" || no "no class bias by default"
expect_rc "quantize with a class bias" 0 env OMP_NUM_THREADS=1 "$TRAIN" quantize --ckpt "$T/tiny.ckpt" \
	--data "$T/tiny.csv" --out "$T/tiny3.qnn" --calib 50 --class-bias auto
grep -a -q "logit_bias=" "$T/tiny3.qnn" && ok "--class-bias auto writes logit_bias" || no "--class-bias auto"
expect_rc "eval the biased model" 0 "$TRAIN" eval --data "$T/tiny.csv" --model "$T/tiny3.qnn"
expect_rc "quantize --class-bias x refused" 2 "$TRAIN" quantize --ckpt "$T/tiny.ckpt" --data "$T/tiny.csv" \
	--out "$T/x.qnn" --class-bias x
expect_rc "robust on the tiny model" 0 "$TRAIN" robust --data "$T/tiny.csv" --model "$T/tiny.qnn"
contains "robust reports each degradation" "$T/out" "16 px face"
contains "robust reports side light" "$T/out" "side light 0.5"
contains "robust reports the calibration error" "$T/out" "ECE"
expect_rc "robust without --data" 2 "$TRAIN" robust
expect_rc "eval the tiny model" 0 "$TRAIN" eval --data "$T/tiny.csv" --model "$T/tiny.qnn" --ckpt "$T/tiny.ckpt" --json
contains "eval has a float section" "$T/out" '"float":{"accuracy"'
contains "eval reports the calibration" "$T/out" '"ece":'
# an ensemble of a model with itself is that model; a different second model
# changes the numbers (the ensemble is really evaluated)
single=$(sed 's/.*"accuracy":\([0-9.]*\).*/\1/' "$T/out")
expect_rc "eval an ensemble" 0 "$TRAIN" eval --data "$T/tiny.csv" --model "$T/tiny.qnn" --model "$T/tiny.qnn" \
	--ckpt "$T/tiny.ckpt" --ckpt "$T/tiny.ckpt" --json
contains "eval counts the ensemble's models" "$T/out" '"models":2'
[ "$(sed 's/.*"accuracy":\([0-9.]*\).*/\1/' "$T/out")" = "$single" ] && ok "a model with itself scores as the model" ||
	no "a model with itself" "$(cat "$T/out")"
expect_rc "eval with too many models" 2 "$TRAIN" eval --data "$T/tiny.csv" $(for i in 1 2 3 4 5 6 7 8 9; do
	printf -- '--model %s ' "$T/tiny.qnn"; done)
contains "too many models is said" "$T/err" "at most 8"

# bad input
expect_rc "no command" 2 "$TRAIN"
expect_rc "unknown command" 2 "$TRAIN" frobnicate
expect_rc "fer without --data" 2 "$TRAIN" fer
expect_rc "bad architecture" 1 "$TRAIN" fer --data "$T/tiny.csv" --arch c4,zz --epochs 1
contains "bad architecture is named" "$T/err" "zz"
for v in 9 -1 x; do
	expect_rc "fer --aug-blur '$v' refused" 2 "$TRAIN" fer --data "$T/tiny.csv" --aug-blur "$v" --epochs 1
done
contains "a bad --aug-blur says what it wants" "$T/err" "--aug-blur wants a sigma in px from 0 to 8, not 'x'"
# a two-output network: the face verifier (labels 0 and 1 only)
expect_rc "two outputs refuse labels above 1" 1 "$TRAIN" fer --data "$T/tiny.csv" --arch c4,p,c8,p,f8,o2 --epochs 1
contains "the label that does not fit is named" "$T/err" "the data has label"
sed -e 's/^3,/1,/' -e 's/^5,/1,/' "$T/tiny.csv" >"$T/two.csv"
expect_rc "train a two-class verifier" 0 env OMP_NUM_THREADS=1 "$TRAIN" fer --data "$T/two.csv" \
	--arch c4,p,c8,p,f8,o2 --epochs 2 --batch 16 --class-weight-power 0 --input-blur 0 --aug-blur 3 \
	--ckpt "$T/two.ckpt"
expect_rc "quantize it as a face verifier" 0 env OMP_NUM_THREADS=1 "$TRAIN" quantize --ckpt "$T/two.ckpt" \
	--data "$T/two.csv" --out "$T/two.qnn" --calib 50
if grep -a -q "task=face-verify" "$T/two.qnn" && grep -a -q "labels=other,face" "$T/two.qnn"; then
	ok "a two-output model is a face verifier"
else
	no "a two-output model is a face verifier" "meta task=face-verify / labels=other,face missing"
fi
expect_rc "verifier-data needs --fer and --out" 2 "$TRAIN" detect verifier-data --faces "$T/none"
expect_rc "verifier-data threshold out of range" 2 "$TRAIN" detect verifier-data --faces "$T/none" \
	--fer "$T/none" --out "$T/v.csv" --threshold 1.5
expect_rc "verifier-data --keep-other 0 refused" 2 "$TRAIN" detect verifier-data --faces "$T/none" \
	--fer "$T/none" --out "$T/v.csv" --keep-other 0
expect_rc "verifier-data --keep-other above 1 refused" 2 "$TRAIN" detect verifier-data --faces "$T/none" \
	--fer "$T/none" --out "$T/v.csv" --keep-other 1.5
expect_rc "verifier-data negative --galleries refused" 2 "$TRAIN" detect verifier-data --faces "$T/none" \
	--fer "$T/none" --out "$T/v.csv" --galleries -1
expect_rc "verifier-data negative --pasted refused" 2 "$TRAIN" detect verifier-data --faces "$T/none" \
	--fer "$T/none" --out "$T/v.csv" --pasted -3
printf 'emotion,pixels,Usage\n3,1 2 3,Training\n' >"$T/bad.csv"
expect_rc "malformed CSV" 1 "$TRAIN" fer --data "$T/bad.csv" --epochs 1
contains "malformed CSV names file and line" "$T/err" "bad.csv:2"
head -c 1000 "$T/tiny.ckpt" >"$T/trunc.ckpt"
expect_rc "truncated checkpoint" 1 "$TRAIN" quantize --ckpt "$T/trunc.ckpt" --data "$T/tiny.csv" --out "$T/x.qnn"
contains "truncated checkpoint is reported" "$T/err" "truncated or damaged"
echo "not a model" >"$T/junk.qnn"
expect_rc "junk model" 1 "$TRAIN" eval --data "$T/tiny.csv" --model "$T/junk.qnn"
expect_rc "missing data" 1 "$TRAIN" eval --data "$T/nonexistent"

# quantize wants a classifier checkpoint, and never leaves a broken model:
# a detector's checkpoint is refused before anything is written, and a
# write that fails (file size limit, as a full disk) keeps the old file
cp "$T/tiny.qnn" "$T/victim.qnn"
if [ -f models/face.ckpt ]; then
	expect_rc "quantize a detector checkpoint" 1 "$TRAIN" quantize --ckpt models/face.ckpt \
		--data "$T/tiny.csv" --out "$T/victim.qnn"
	contains "a detector checkpoint is named as such" "$T/err" "is not a classifier checkpoint"
	cmp -s "$T/tiny.qnn" "$T/victim.qnn" && ok "the refused quantize left its --out alone" ||
		no "the refused quantize left its --out alone" "victim.qnn changed"
fi
expect_rc "quantize past the file size limit" 1 sh -c "trap '' XFSZ; ulimit -f 2; OMP_NUM_THREADS=1 \
	'$TRAIN' quantize --ckpt '$T/tiny.ckpt' --data '$T/tiny.csv' --out '$T/victim.qnn' --calib 20"
contains "the failed write is reported" "$T/err" "cannot write model"
cmp -s "$T/tiny.qnn" "$T/victim.qnn" && ok "a failed write keeps the previous model" ||
	no "a failed write keeps the previous model" "victim.qnn changed"
[ -z "$(ls "$T" | grep 'victim.qnn.tmp')" ] && ok "no temporary file left" || no "no temporary file left" "$(ls "$T")"

# the test split never calibrates or trains: a folder named test is refused
# for the training split (it was used when it had no train/ inside)
mkdir -p "$T/fd/test"
expect_rc "quantize --data a test folder" 1 "$TRAIN" quantize --ckpt "$T/tiny.ckpt" --data "$T/fd/test" \
	--out "$T/fd.qnn"
contains "a test split is not calibrated on" "$T/err" "is a test split"
[ ! -e "$T/fd.qnn" ] && ok "no model from a test split" || no "no model from a test split"
expect_rc "fer --data a test folder" 1 "$TRAIN" fer --data "$T/fd/test/" --epochs 1
contains "a test split is not trained on" "$T/err" "is a test split"

# strict numbers: the whole argument, within the option's range
for o in "--seed foo" "--epochs 1x" "--lr abc" "--batch 0" "--wd -1" "--rot 400" "--input-blur nan" \
	"--sidelight 1.5" "--sidelight x" "--stop-after 0"; do
	expect_rc "fer $o refused" 2 "$TRAIN" fer --data "$T/tiny.csv" $o
done
contains "a bad value says what the option wants" "$T/err" "--stop-after wants a count of epochs from 1 to 100000, not '0'"
for o in "--calib 10x" "--percentile 40" "--input-blur x"; do
	expect_rc "quantize $o refused" 2 "$TRAIN" quantize --ckpt "$T/tiny.ckpt" --data "$T/tiny.csv" \
		--out "$T/x.qnn" $o
done
for o in "--seed foo" "--noise abc" "--input 0"; do
	expect_rc "grow $o refused" 2 "$TRAIN" grow --ckpt "$T/tiny.ckpt" --arch c4,p,c8,p,f8,o7 \
		--out "$T/x.ckpt" $o
done
expect_rc "fewer training faces than a batch" 1 "$TRAIN" fer --data "$T/tiny.csv" --arch c4,p,o7 \
	--epochs 1 --batch 4096 --ckpt "$T/big/x.ckpt"
contains "a batch larger than the data is said" "$T/err" "fewer than one batch"
[ ! -e "$T/big/x.ckpt" ] && ok "no checkpoint without a step" || no "no checkpoint without a step"
: >"$T/afile"
expect_rc "a checkpoint folder that cannot be made" 1 "$TRAIN" fer --data "$T/tiny.csv" --arch c4,p,o7 \
	--epochs 1 --batch 16 --ckpt "$T/afile/x.ckpt"
contains "the folder is named" "$T/err" "$T/afile is not a folder"
expect_rc "checkpoint folders are made as needed" 0 env OMP_NUM_THREADS=1 "$TRAIN" fer --data "$T/tiny.csv" \
	--arch c4,p,o7 --epochs 1 --batch 16 --ckpt "$T/new/deeper/x.ckpt"
# CSV rows: a label that fits only after a cast to int, an unknown Usage
sed '3s/^[0-9]*,/4294967299,/' "$T/tiny.csv" >"$T/label.csv"
expect_rc "CSV label 4294967299" 1 "$TRAIN" fer --data "$T/label.csv" --epochs 1
contains "the big label is named by line" "$T/err" "label.csv:3: malformed row"
sed '5s/,Training$/,Trainig/' "$T/tiny.csv" >"$T/typo.csv"
expect_rc "CSV Usage typo" 1 "$TRAIN" fer --data "$T/typo.csv" --epochs 1
contains "the unknown Usage is named by line" "$T/err" "typo.csv:5: unknown Usage 'Trainig'"

# --resume continues the run exactly: 2 epochs straight and 1 + 1 give the
# same bytes, dropout included (its state is in the checkpoint)
A=c4,p,c8,p,d0.3,f8,d0.3,o7
expect_rc "two epochs straight" 0 env OMP_NUM_THREADS=1 "$TRAIN" fer --data "$T/tiny.csv" --arch $A \
	--epochs 2 --batch 16 --ckpt "$T/straight/x.ckpt"
expect_rc "one epoch of two" 0 env OMP_NUM_THREADS=1 "$TRAIN" fer --data "$T/tiny.csv" --arch $A \
	--epochs 2 --batch 16 --stop-after 1 --ckpt "$T/split/x.ckpt"
expect_rc "and the second, resumed" 0 env OMP_NUM_THREADS=1 "$TRAIN" fer --data "$T/tiny.csv" --arch $A \
	--epochs 2 --batch 16 --ckpt "$T/split/x.ckpt" --resume
cmp -s "$T/straight/x.ckpt" "$T/split/x.ckpt" && ok "2 epochs straight == 1 + 1 resumed, byte for byte" ||
	no "2 epochs straight == 1 + 1 resumed" "the checkpoints differ"
# mixup: reproducible across a resume too, and it changes the training
expect_rc "mixup: two epochs straight" 0 env OMP_NUM_THREADS=1 "$TRAIN" fer --data "$T/tiny.csv" --arch $A \
	--epochs 2 --batch 16 --mixup 0.4 --ckpt "$T/mstraight/x.ckpt"
contains "the mixup parameter is logged" "$T/err" "mixup 0.4"
expect_rc "mixup: one epoch of two" 0 env OMP_NUM_THREADS=1 "$TRAIN" fer --data "$T/tiny.csv" --arch $A \
	--epochs 2 --batch 16 --mixup 0.4 --stop-after 1 --ckpt "$T/msplit/x.ckpt"
expect_rc "mixup: the second, resumed" 0 env OMP_NUM_THREADS=1 "$TRAIN" fer --data "$T/tiny.csv" --arch $A \
	--epochs 2 --batch 16 --mixup 0.4 --ckpt "$T/msplit/x.ckpt" --resume
cmp -s "$T/mstraight/x.ckpt" "$T/msplit/x.ckpt" && ok "mixup: 2 epochs straight == 1 + 1 resumed" ||
	no "mixup: 2 epochs straight == 1 + 1 resumed" "the checkpoints differ"
cmp -s "$T/mstraight/x.ckpt" "$T/straight/x.ckpt" && no "mixup changes the weights" "same bytes as without" ||
	ok "mixup changes the weights"
for o in "--mixup -1" "--mixup x" "--mixup 11"; do
	expect_rc "fer $o refused" 2 "$TRAIN" fer --data "$T/tiny.csv" $o
done
contains "a bad mixup says what it wants" "$T/err" "--mixup wants a Beta parameter (0: off)"
# distillation: a teacher's softened probabilities join the loss; the run
# resumes exactly (the teacher given again), and the teacher changes it
expect_rc "distil: two epochs straight" 0 env OMP_NUM_THREADS=1 "$TRAIN" fer --data "$T/tiny.csv" --arch $A \
	--epochs 2 --batch 16 --teacher "$T/tiny.ckpt" --distill 0.7 --distill-temp 3 --ckpt "$T/dstraight/x.ckpt"
contains "the teacher is logged" "$T/err" "teacher $T/tiny.ckpt (c4,p,c8,p,f8,o7)"
contains "its share and temperature too" "$T/err" "share 0.7 at temperature 3"
expect_rc "distil: one epoch of two" 0 env OMP_NUM_THREADS=1 "$TRAIN" fer --data "$T/tiny.csv" --arch $A \
	--epochs 2 --batch 16 --teacher "$T/tiny.ckpt" --distill 0.7 --distill-temp 3 --stop-after 1 \
	--ckpt "$T/dsplit/x.ckpt"
expect_rc "distil: the second, resumed" 0 env OMP_NUM_THREADS=1 "$TRAIN" fer --data "$T/tiny.csv" --arch $A \
	--epochs 2 --batch 16 --teacher "$T/tiny.ckpt" --distill 0.7 --distill-temp 3 --resume \
	--ckpt "$T/dsplit/x.ckpt"
cmp -s "$T/dstraight/x.ckpt" "$T/dsplit/x.ckpt" && ok "distil: 2 epochs straight == 1 + 1 resumed" ||
	no "distil: 2 epochs straight == 1 + 1 resumed" "the checkpoints differ"
cmp -s "$T/dstraight/x.ckpt" "$T/straight/x.ckpt" && no "the teacher changes the weights" "same bytes as without" ||
	ok "the teacher changes the weights"
expect_rc "--distill without --teacher" 2 "$TRAIN" fer --data "$T/tiny.csv" --distill 0.5
contains "the missing teacher is said" "$T/err" "--distill goes with --teacher"
expect_rc "a missing teacher" 1 "$TRAIN" fer --data "$T/tiny.csv" --arch $A --epochs 1 --batch 16 \
	--teacher "$T/nonexistent.ckpt" --ckpt "$T/dnone/x.ckpt"
contains "the missing teacher is named" "$T/err" "nonexistent.ckpt"
[ ! -e "$T/dnone" ] && ok "a missing teacher leaves no folder or log" || no "a missing teacher leaves no folder or log" "$(ls "$T/dnone")"
# the teachers' share 0: the labels alone, the same bytes as without a teacher
expect_rc "distil with share 0" 0 env OMP_NUM_THREADS=1 "$TRAIN" fer --data "$T/tiny.csv" --arch $A \
	--epochs 2 --batch 16 --teacher "$T/tiny.ckpt" --distill 0 --ckpt "$T/dzero/x.ckpt"
cmp -s "$T/dzero/x.ckpt" "$T/straight/x.ckpt" && ok "share 0 == no teacher, byte for byte" ||
	no "share 0 == no teacher, byte for byte" "the checkpoints differ"
expect_rc "a detector as teacher" 1 "$TRAIN" fer --data "$T/tiny.csv" --arch $A --epochs 1 --batch 16 \
	--teacher models/face.ckpt --ckpt "$T/ddet/x.ckpt"
contains "a detector is no teacher" "$T/err" "is not a classifier checkpoint"
for o in "--distill 2" "--distill-temp 0" "--distill-temp x"; do
	expect_rc "fer $o refused" 2 "$TRAIN" fer --data "$T/tiny.csv" --teacher "$T/tiny.ckpt" $o
done
expect_rc "resume without optimizer state refused" 2 "$TRAIN" fer --data "$T/tiny.csv" --arch $A \
	--epochs 3 --batch 16 --ckpt "$T/split/x.ckpt.best" --resume
contains "the missing optimizer state is said" "$T/err" "holds no optimizer state"
expect_rc "resume with another optimizer refused" 2 "$TRAIN" fer --data "$T/tiny.csv" --arch $A \
	--epochs 3 --batch 16 --ckpt "$T/split/x.ckpt" --resume --adamw
contains "the two optimizers are named" "$T/err" "was trained with SGD, this run asks for AdamW"
expect_rc "resume with another seed refused" 2 "$TRAIN" fer --data "$T/tiny.csv" --arch $A \
	--epochs 3 --batch 16 --ckpt "$T/split/x.ckpt" --resume --seed 5
contains "the seed is said" "$T/err" "trained with --seed 1, not 5"
expect_rc "--reset-optimizer without --resume" 2 "$TRAIN" fer --data "$T/tiny.csv" --reset-optimizer
expect_rc "resume with --reset-optimizer" 0 env OMP_NUM_THREADS=1 "$TRAIN" fer --data "$T/tiny.csv" \
	--arch $A --epochs 3 --batch 16 --ckpt "$T/split/x.ckpt" --resume --adamw --reset-optimizer
contains "the reset is logged" "$T/err" "optimizer state reset"

# grow: the tiny classifier widened and deepened keeps its accuracy (the
# same function), resumes training, and refuses what is not a growth
expect_rc "grow the tiny checkpoint" 0 "$TRAIN" grow --ckpt "$T/tiny.ckpt" \
	--arch c6,c6,p,c8,p,f12,o7 --noise 0 --out "$T/grown.ckpt"
"$TRAIN" eval --data "$T/tiny.csv" --ckpt "$T/tiny.ckpt" --json >"$T/a.json" 2>/dev/null
"$TRAIN" eval --data "$T/tiny.csv" --ckpt "$T/grown.ckpt" --json >"$T/b.json" 2>/dev/null
py_check "grown checkpoint keeps the accuracy" "$(cat "$T/a.json" "$T/b.json" | head -c 400)" \
	"$T/a.json" "$T/b.json" <<'PY'
import json, sys
a, b = (json.load(open(p))["float"]["accuracy"] for p in sys.argv[1:])
assert abs(a - b) < 1e-9, (a, b)
PY
expect_rc "resume the grown checkpoint" 0 env OMP_NUM_THREADS=1 "$TRAIN" fer --data "$T/tiny.csv" \
	--arch c6,c6,p,c8,p,f12,o7 --epochs 3 --batch 16 --ckpt "$T/grown.ckpt" --resume
expect_rc "grow into a narrower net" 1 "$TRAIN" grow --ckpt "$T/tiny.ckpt" \
	--arch c3,p,c8,p,f8,o7 --out "$T/bad.ckpt"
contains "narrower net is explained" "$T/err" "cannot grow"
expect_rc "grow without --arch" 2 "$TRAIN" grow --ckpt "$T/tiny.ckpt" --out "$T/bad.ckpt"
expect_rc "grow a truncated checkpoint" 1 "$TRAIN" grow --ckpt "$T/trunc.ckpt" \
	--arch c6,p,c8,p,f8,o7 --out "$T/bad.ckpt"
[ ! -e "$T/bad.ckpt" ] && ok "nothing written on failure" || no "nothing written on failure" "bad.ckpt exists"
# average: the epochs kept by --keep, batch norm re-measured; an average of
# one checkpoint with itself is that checkpoint (up to batch-norm noise)
expect_rc "train with --keep" 0 env OMP_NUM_THREADS=1 "$TRAIN" fer --data "$T/tiny.csv" \
	--arch c4,p,f8,o7 --epochs 2 --batch 16 --keep --ckpt "$T/kept.ckpt"
[ -f "$T/kept.ckpt.e1" ] && [ -f "$T/kept.ckpt.e2" ] && ok "every epoch kept" || no "every epoch kept" "$(ls "$T")"
expect_rc "average two epochs" 0 env OMP_NUM_THREADS=1 "$TRAIN" average --ckpt "$T/kept.ckpt.e1" \
	--ckpt "$T/kept.ckpt.e2" --data "$T/tiny.csv" --out "$T/avg.ckpt"
contains "every training face re-measures batch norm" "$T/out" "re-measured on 72 faces in 1 batches"
expect_rc "eval the average" 0 "$TRAIN" eval --data "$T/tiny.csv" --ckpt "$T/avg.ckpt" --json
# the statistics are the last floats of the checkpoint (c4, f8: 4 + 8
# channels, mean and variance each): measured, not the reset 0 and 1
py_check "batch-norm statistics re-measured" "$(od -A d -t f4 "$T/avg.ckpt" | tail -n 4)" "$T/avg.ckpt" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
st = struct.unpack("<24f", b[-96:])
mean = st[0:4] + st[8:16]
var = st[4:8] + st[16:24]
assert any(abs(m) > 1e-3 for m in mean) and any(abs(v - 1) > 1e-3 for v in var), st
PY
head -n 13 "$T/tiny.csv" >"$T/few.csv"
expect_rc "average on too few faces" 1 env OMP_NUM_THREADS=1 "$TRAIN" average --ckpt "$T/kept.ckpt.e1" \
	--ckpt "$T/kept.ckpt.e2" --data "$T/few.csv" --out "$T/few.ckpt"
contains "too few faces is said" "$T/err" "too few to measure batch norm"
expect_rc "average a checkpoint with itself" 0 env OMP_NUM_THREADS=1 "$TRAIN" average \
	--ckpt "$T/tiny.ckpt" --ckpt "$T/tiny.ckpt" --data "$T/tiny.csv" --out "$T/self.ckpt"
"$TRAIN" eval --data "$T/tiny.csv" --ckpt "$T/self.ckpt" --json >"$T/c.json" 2>/dev/null
py_check "self-average keeps the accuracy" "$(cat "$T/a.json" "$T/c.json" | head -c 400)" \
	"$T/a.json" "$T/c.json" <<'PY'
import json, sys
a, c = (json.load(open(p))["float"]["accuracy"] for p in sys.argv[1:])
assert abs(a - c) < 0.05, (a, c)
PY
expect_rc "average of one checkpoint" 2 "$TRAIN" average --ckpt "$T/tiny.ckpt" --data "$T/tiny.csv" --out "$T/bad.ckpt"
expect_rc "average of two architectures" 1 "$TRAIN" average --ckpt "$T/tiny.ckpt" \
	--ckpt "$T/grown.ckpt" --data "$T/tiny.csv" --out "$T/bad.ckpt"
contains "two architectures are explained" "$T/err" "differs from"
# detector training options checked before any data is read
expect_rc "detect average of one checkpoint" 2 "$TRAIN" detect average --faces "$T/none" \
	--out "$T/bad.ckpt" "$T/tiny.ckpt"
expect_rc "detect average of a classifier" 1 "$TRAIN" detect average --faces "$T/none" \
	--out "$T/bad.ckpt" "$T/tiny.ckpt" "$T/tiny.ckpt"
contains "detect average says what is wrong" "$T/err" "not a detector"
if [ -f models/face.ckpt ]; then
	expect_rc "grow the shipped detector" 0 "$TRAIN" grow --ckpt models/face.ckpt --noise 0 \
		--arch c16/s2,p,c32/s2,c32,c32,c32,c32,c32,c32,c32,h15 --out "$T/deeper.ckpt"
	expect_rc "detect average of two architectures" 1 "$TRAIN" detect average --faces "$T/none" \
		--out "$T/bad.ckpt" models/face.ckpt "$T/deeper.ckpt"
	contains "detect average names the mismatch" "$T/err" "differs from"
fi
# align-check: a pasted face cut out again at its true place classifies
# like its original crop (the paste geometry is right), the detector finds
# most pasted faces, its boxes are near the truth, and the found faces,
# aligned and classified as emotop does, stay near their original crops
# and above a floor. The gap grew with the sharper classifier of session
# 13 (measured on these 1,000 faces: 63.16 % aligned against 67.17 %
# original, 4.0 points; 2.8 on all 3,589, docs/models.md); the blurred
# ensemble before lost 0.5. 5 points and a floor of 61 % catch a broken
# warp, framing or detector.
FACES=$SHARED/data/faces
expect_rc "align-check --limit 0" 2 "$TRAIN" detect align-check --faces "$T/none" --fer "$T/none" --limit 0
if [ -d "$FACES/negatives" ] && [ -d "$FER/test" ]; then
	if "$TRAIN" detect align-check --faces "$FACES" --fer "$FER/test" --limit 1000 >"$T/ac.txt" 2>"$T/err"; then
		py_check "align-check: true-place crops, detection and framing" "$(cat "$T/ac.txt")" "$T/ac.txt" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
num = lambda pat: float(re.search(pat, t).group(1))
assert num(r"FER2013 faces: (\d+)") == 1000
orig = num(r"original 48x48 crops: +accuracy ([\d.]+) %")
true_all = num(r"cut out at the true place: +([\d.]+) %")
found = num(r"faces detected \(IoU > 0.3\): +\d+ \(([\d.]+) %\)")
m = re.search(r"on the detected faces: +([\d.]+) % aligned, ([\d.]+) % original", t)
aligned, orig_found = float(m.group(1)), float(m.group(2))
m = re.search(r"log side ([-+][\d.]+) ([\d.]+)", t)
bias, sd = float(m.group(1)), float(m.group(2))
assert abs(true_all - orig) <= 2, (true_all, orig)
assert found >= 85, found                        # measured 92.9
assert aligned >= orig_found - 5, (aligned, orig_found)
assert aligned >= 61, aligned                    # measured 63.16
assert abs(bias) < 0.2 and sd < 0.25, (bias, sd)
PY
	else
		no "align-check runs" "$(head -c 400 "$T/err")"
	fi
	# verifier-data end to end on a small face set (40 photos, 30
	# negatives): galleries and pasted frames give labelled 48x48 rows
	mf=$T/mf
	mkdir -p "$mf/webfaces/images" "$mf/crops" "$mf/negatives"
	head -1 "$FACES/crops.csv" >"$mf/crops.csv"
	head -41 "$FACES/webfaces/faces.csv" >"$mf/webfaces/faces.csv"
	for p in $(tail -n +2 "$mf/webfaces/faces.csv" | cut -d, -f1 | sort -u); do
		ln -s "$FACES/webfaces/images/$p" "$mf/webfaces/images/$p"
	done
	for n in $(ls "$FACES/negatives" | head -30); do ln -s "$FACES/negatives/$n" "$mf/negatives/$n"; done
	if "$TRAIN" detect verifier-data --faces "$mf" --fer "$FER/test" --galleries 4 --pasted 30 \
		--keep-other 0.5 --out "$T/v.csv" >"$T/vd.txt" 2>"$T/err"; then
		py_check "verifier-data: labelled rows from photos, galleries and pasted faces" "$(cat "$T/vd.txt")" \
			"$T/v.csv" "$T/vd.txt" <<'PY'
import re, sys
rows = open(sys.argv[1]).read().splitlines()
assert rows[0] == "emotion,pixels,Usage", rows[0]
lab = {}
for r in rows[1:]:
    l, px, use = r.split(",")
    assert len(px.split()) == 48 * 48 and use in ("Training", "PublicTest")
    lab[(l, use)] = lab.get((l, use), 0) + 1
m = re.search(r"(\d+) faces and (\d+) non-faces for training, (\d+) and (\d+) held out", open(sys.argv[2]).read())
want = [int(m.group(i)) for i in range(1, 5)]
got = [lab.get(k, 0) for k in (("1", "Training"), ("0", "Training"), ("1", "PublicTest"), ("0", "PublicTest"))]
assert got == want, (got, want)
assert want[0] >= 30 and want[1] >= 10, want   # 4 galleries of 4-36 faces and 30 pasted faces
PY
	else
		no "verifier-data runs on a small face set" "$(head -c 400 "$T/err")"
	fi
	# the same with two WIDER training photos (chosen by the trainer's
	# hold-out hash): their faces and their unmatched candidates (WIDER
	# annotates every face) add training rows, none held out
	mw=$T/mw
	cp -a "$mf" "$mw"
	mkdir -p "$mw/wider/images"
	python3 - "$FACES/wider/faces.csv" "$mw/wider/faces.csv" <<'PY'
import collections, sys
def held(name):  # detect_data.c's dt_held: FNV-1a of the name, 1 in 10
    x = 2166136261
    for c in name.encode():
        x = ((x ^ c) * 16777619) & 0xffffffff
    return x % 10 == 7
rows = open(sys.argv[1]).read().splitlines()
n = collections.Counter(r.split(",")[0] for r in rows[1:])
pick = sorted(k for k, c in n.items() if not held(k) and 8 <= c <= 15)[:2]
open(sys.argv[2], "w").write("\n".join([rows[0]] + [r for r in rows[1:] if r.split(",")[0] in pick]) + "\n")
PY
	for p in $(tail -n +2 "$mw/wider/faces.csv" | cut -d, -f1 | sort -u); do
		ln -s "$FACES/wider/images/$p" "$mw/wider/images/$p"
	done
	if "$TRAIN" detect verifier-data --faces "$mw" --fer "$FER/test" --galleries 4 --pasted 30 \
		--keep-other 0.5 --out "$T/vw.csv" >"$T/vw.txt" 2>"$T/err"; then
		py_check "verifier-data: WIDER training photos add training faces and non-faces" \
			"$(cat "$T/vd.txt" "$T/vw.txt")" "$T/vd.txt" "$T/vw.txt" <<'PY'
import re, sys
def counts(p):
    m = re.search(r"(\d+) faces and (\d+) non-faces for training, (\d+) and (\d+) held out", open(p).read())
    return [int(m.group(i)) for i in range(1, 5)]
a, b = counts(sys.argv[1]), counts(sys.argv[2])
assert b[0] > a[0] and b[1] > a[1], (a, b)
assert b[2:] == a[2:], (a, b)
PY
	else
		no "verifier-data runs with WIDER photos" "$(head -c 400 "$T/err")"
	fi
	# detect eval on the small face set and FER2013's test galleries: the
	# breakdowns add up to the headline figures, and the shipped detector
	# still finds the galleries (the previous one 466/500 here, this one 475)
	if "$TRAIN" detect eval --faces "$mf" --fer "$FER/test" >"$T/de.txt" 2>"$T/err"; then
		py_check "detect eval: recall by size, budgets and galleries agree" "$(cat "$T/de.txt")" \
			"$T/de.txt" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
m = re.search(r"recall ([\d.]+) \((\d+)/(\d+) faces >= 20 px\), all sizes [\d.]+ \((\d+)/(\d+)\) at threshold ([\d.]+)", t)
rec, hit, gt, hit_all, gt_all, thr = float(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), m[6]
assert gt_all >= gt > 0, (gt, gt_all)
bins = re.findall(r"px ([\d.]+) \((\d+)/(\d+)\)", t.split("WebFaces recall by face size sqrt(w h) at threshold " + thr)[1].splitlines()[0])
assert len(bins) == 5, bins
assert sum(int(b[1]) for b in bins) == hit_all and sum(int(b[2]) for b in bins) == gt_all, (bins, hit_all, gt_all)
assert sum(int(b[1]) for b in bins[1:]) == hit and sum(int(b[2]) for b in bins[1:]) == gt, (bins, hit, gt)
sw = re.findall(r"(0\.\d+): ([\d.]+) \(threshold ([\d.]+)\)", t.split("at false alarms per negative:")[1])
assert [s[0] for s in sw] == ["0.005", "0.010", "0.020", "0.050"], sw
assert float(sw[1][1]) == rec and sw[1][2] == thr, (sw, rec, thr)
assert all(float(a[1]) <= float(b[1]) and float(a[2]) >= float(b[2]) for a, b in zip(sw, sw[1:])), sw
g = re.search(r"FER test faces \(IoU >= 0.3\): recall [\d.]+ \((\d+)/(\d+)\), (\d+) false alarms; at IoU >= 0.5 (\d+)/(\d+)", t)
g_hit, g_gt, g_fa, g50 = int(g[1]), int(g[2]), int(g[3]), int(g[4])
assert g_gt == 500 and g50 <= g_hit <= g_gt, g.group(0)
# the galleries do not depend on the face set's photos, only on the
# threshold (set by 3 held-out negatives here: 0.162, 475/500 found)
assert g_hit >= 440, g.group(0)
assert re.search(r"decoy galleries .*: \d+ false alarms on 500 tiles", t)
d = re.search(r"at the default threshold 0.50: held-out recall [\d.]+ \((\d+)/(\d+)\), \d+ false alarms on \d+ negatives; galleries (\d+)/500 with \d+ false alarms; decoys \d+ false alarms", t)
assert d and int(d[2]) == gt and int(d[1]) <= gt, t
# 0.5 is above the threshold set by the 3 negatives here: fewer found
assert float(thr) < 0.5 and int(d[3]) <= g_hit and int(d[1]) <= hit, (thr, d.group(0))
PY
	else
		no "detect eval runs on a small face set" "$(head -c 400 "$T/err")"
	fi
	# --mix: negatives only gives no face to regress (reg and lm 0 in the
	# log); photo crops only do
	for m in 0,0,0,1 1,0,0,0; do
		expect_rc "detect train --mix $m on the small face set" 0 env OMP_NUM_THREADS=1 "$TRAIN" detect train \
			--faces "$mf" --epochs 1 --steps 3 --batch 8 --mix $m --ckpt "$T/mix$m/face.ckpt"
	done
	if grep -q 'train heat [0-9.]* reg 0.0000 lm 0.0000 |' "$T/mix0,0,0,1/face.ckpt.log" &&
		! grep -q 'train heat [0-9.]* reg 0.0000 ' "$T/mix1,0,0,0/face.ckpt.log"; then
		ok "--mix sets what a batch holds (negatives only: nothing to regress)"
	else
		no "--mix sets what a batch holds" "$(cat "$T/mix0,0,0,1/face.ckpt.log" "$T/mix1,0,0,0/face.ckpt.log")"
	fi
	# an image that does not decode is named and left out, not trained on
	echo "not a JPEG" >"$mf/negatives/zz-broken.jpg"
	expect_rc "detect train with one unreadable negative" 0 env OMP_NUM_THREADS=1 "$TRAIN" detect train \
		--faces "$mf" --epochs 1 --steps 1 --batch 4 --ckpt "$T/broken/face.ckpt"
	contains "the unreadable image is named" "$T/err" "1 of 66 images could not be read and are left out (the first: $mf/negatives/zz-broken.jpg)"
else
	skip "align-check and verifier-data: face data or FER2013 not found under $SHARED/data"
fi
# a face set where no image decodes (a wrong --faces, dangling links) is an
# error, not a run on blank backgrounds
bf=$T/bf
mkdir -p "$bf/webfaces/images" "$bf/negatives"
printf 'image,x,y,w,h,left_eye_x,left_eye_y,right_eye_x,right_eye_y,nose_x,nose_y,mouth_x,mouth_y\n' >"$bf/webfaces/faces.csv"
# (a4.jpg: a name the hash holds out; 4 negatives: one held out)
printf 'a.jpg,10,10,40,40,20,25,40,25,30,35,30,42\n' >>"$bf/webfaces/faces.csv"
printf 'a4.jpg,10,10,40,40,20,25,40,25,30,35,30,42\n' >>"$bf/webfaces/faces.csv"
printf 'image,left_eye_x,left_eye_y,right_eye_x,right_eye_y,nose_x,nose_y,mouth_left_x,mouth_left_y,mouth_right_x,mouth_right_y\n' >"$bf/crops.csv"
echo junk >"$bf/webfaces/images/a.jpg"
echo junk >"$bf/webfaces/images/a4.jpg"
for i in 1 2 3 4; do ln -s "$T/nowhere.jpg" "$bf/negatives/n$i.jpg"; done
expect_rc "detect train on images that do not decode" 1 env OMP_NUM_THREADS=1 "$TRAIN" detect train \
	--faces "$bf" --epochs 1 --steps 1 --batch 4 --mix 1,0,0,1 --ckpt "$T/bf/face.ckpt"
contains "no readable image is said" "$T/err" "no photo or negative image could be read"
[ ! -f "$T/bf/face.ckpt" ] && ok "no checkpoint from unreadable images" || no "no checkpoint from unreadable images"
# empty splits: samples are drawn from the training and held-out photos and
# negatives (an empty one read past the end of its array)
rm "$bf/negatives/n4.jpg"
expect_rc "detect train with 3 negatives" 1 "$TRAIN" detect train --faces "$bf" --epochs 1 --steps 1 \
	--batch 4 --ckpt "$T/bf/face.ckpt"
contains "too few negatives is said" "$T/err" "at least 4 are needed"
ln -s "$T/nowhere.jpg" "$bf/negatives/n4.jpg"
sed -i '/^a4.jpg/d' "$bf/webfaces/faces.csv"
expect_rc "detect train with no held-out photo" 1 "$TRAIN" detect train --faces "$bf" --epochs 1 --steps 1 \
	--batch 4 --ckpt "$T/bf/face.ckpt"
contains "the empty split is said" "$T/err" "0 of them held out"
# faces.csv: only line 1 may be a header; a bad row is an error naming it
hdr='image,x,y,w,h,left_eye_x,left_eye_y,right_eye_x,right_eye_y,nose_x,nose_y,mouth_x,mouth_y'
for row in 'a.jpg,nan,10,40,40,20,25,40,25,30,35,30,42' 'a.jpg,10,10,-40,-40,20,25,40,25,30,35,30,42' \
	'a.jpg,10,10,40,40,20,25,40,25,30,35,30' 'a.jpg,10,10,40,40,20,25,40,25,30,35,30,inf' \
	'a.jpg,10,10,40,40,20,25,40,25,30,35,30,42,7'; do
	printf '%s\na.jpg,10,10,40,40,20,25,40,25,30,35,30,42\n%s\n' "$hdr" "$row" >"$bf/webfaces/faces.csv"
	expect_rc "faces.csv row '$row' refused" 1 "$TRAIN" detect train --faces "$bf" --epochs 1 --steps 1 \
		--batch 4 --ckpt "$T/bf/face.ckpt"
	contains "the bad row is named by line" "$T/err" "bf/webfaces/faces.csv:3:"
done
printf 'a.jpg,10,10,40,40,20,25,40,25,30,35,30,42\n%s\n' "$hdr" >"$bf/webfaces/faces.csv"
expect_rc "a header on line 2 refused" 1 "$TRAIN" detect train --faces "$bf" --epochs 1 --steps 1 \
	--batch 4 --ckpt "$T/bf/face.ckpt"
contains "the header on line 2 is named" "$T/err" "faces.csv:2: malformed row"
if [ -d "$FACES/negatives" ] && [ -d "$FER/test" ]; then
	# a box wholly outside its (decoded) image; partly outside is a face cut by the border
	cp "$mf/webfaces/faces.csv" "$T/faces.keep"
	p=$(sed -n 2p "$T/faces.keep" | cut -d, -f1)
	printf '%s,5000,5000,40,40,20,25,40,25,30,35,30,42\n' "$p" >>"$mf/webfaces/faces.csv"
	expect_rc "a box outside its image refused" 1 "$TRAIN" detect train --faces "$mf" --epochs 1 --steps 1 \
		--batch 4 --ckpt "$T/mfo/face.ckpt"
	contains "the box outside is named" "$T/err" "lies outside the"
	cp "$T/faces.keep" "$mf/webfaces/faces.csv"
fi
for v in -1 1.5 abc; do
	expect_rc "detect calibrate --budget '$v' refused" 2 "$TRAIN" detect calibrate --faces "$T/none" --budget "$v"
done
contains "a bad --budget says what it wants" "$T/err" "--budget wants false alarms per negative from 0 to 1, not 'abc'"
for o in "--seed foo" "--epochs 1x" "--lr abc" "--steps 0" "--threshold 2"; do
	expect_rc "detect train $o refused" 2 "$TRAIN" detect train --faces "$T/none" $o
done
expect_rc "detect train --reset-optimizer without --resume" 2 "$TRAIN" detect train --faces "$T/none" \
	--reset-optimizer
expect_rc "detect train --restart without --resume" 2 "$TRAIN" detect train --faces "$T/none" --restart
expect_rc "detect train --ignore-threshold out of range" 2 "$TRAIN" detect train --faces "$T/none" \
	--ignore-model embedded --ignore-threshold 1.5
for m in 1,2,3 1,2,3,-1 0,0,0,0 a,b,c,d 1,2,3,4,5; do
	expect_rc "detect train --mix $m refused" 2 "$TRAIN" detect train --faces "$T/none" --mix "$m"
done
contains "a bad --mix says what it wants" "$T/err" "four shares"
for v in 1.5 -0.1 abc ""; do
	expect_rc "detect train --sharp '$v' refused" 2 "$TRAIN" detect train --faces "$T/none" --sharp "$v"
done
contains "a bad --sharp says what it wants" "$T/err" "--sharp wants a share from 0 to 1, not"
expect_rc "detect eval --gallery-blur out of range" 2 "$TRAIN" detect eval --faces "$T/none" --gallery-blur 11
contains "a bad --gallery-blur says what it wants" "$T/err" "--gallery-blur wants a sigma in px from 0 to 10, not '11'"
for v in 9 4097 12px ""; do
	expect_rc "detect eval --min-face '$v' refused" 2 "$TRAIN" detect eval --faces "$T/none" --min-face "$v"
done
contains "a bad --min-face says what it wants" "$T/err" "--min-face wants a side in px from 10 to 4096, not ''"
done_tests
