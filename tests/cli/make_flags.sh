#!/bin/sh
# make_flags.sh - build flags that matter for finding bugs: make fuzz builds
# with -fno-sanitize-recover=all (else an UBSan finding is printed, the run
# goes on and the input is not saved), as make asan does.
. tests/cli/cli_lib.inc
if ! command -v make >/dev/null 2>&1; then
	skip "make not installed"
	done_tests; exit $?
fi
for t in fuzz_model fuzz_config; do
	make -n -B B=build "build/fuzz/$t" >"$T/cmd" 2>&1 # B: not make asan's
	grep "$t\.c" "$T/cmd" >"$T/line"
	if grep -q -- "-fsanitize=fuzzer,address,undefined" "$T/line" && grep -q -- "-fno-sanitize-recover=all" "$T/line"; then
		ok "make fuzz: $t stops on UBSan findings"
	else
		no "make fuzz: $t stops on UBSan findings" "$(head -c 600 "$T/cmd")"
	fi
done
make -n -B B=build-asan OPT=-O1 SANITIZER=address,undefined build-asan/src/qnn.o >"$T/cmd" 2>&1
grep -q -- "-fno-sanitize-recover=all" "$T/cmd" && ok "make asan: stops on UBSan findings" ||
	no "make asan: stops on UBSan findings" "$(head -c 600 "$T/cmd")"
# make valgrind: the unit tests only, with one OpenMP/OpenBLAS thread (its
# spinning workers made test_fnn take minutes under valgrind)
make -n valgrind >"$T/cmd" 2>&1
line=$(grep 'VALGRIND=1' "$T/cmd")
case $line in
*OMP_NUM_THREADS=1*OPENBLAS_NUM_THREADS=1*) ok "make valgrind: one thread" ;;
*) no "make valgrind: one thread" "$line" ;;
esac
case $line in
*tests/cli/*) no "make valgrind: unit tests only (shell tests are make test's)" "$line" ;;
*) ok "make valgrind: unit tests only (shell tests are make test's)" ;;
esac
done_tests
