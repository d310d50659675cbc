#!/usr/bin/env bash
# PrairieLearn's external grader runs this in the image of ./Dockerfile for every submission:
# grades $GRADE_ROOT/student (the submitted peer.ts, or a repository) with the Lab 9 grading
# CLI and writes $GRADE_ROOT/results/results.json in PrairieLearn's format, which is what the
# student sees. This script's own output (the run.log: isolation layers, Jest's log) goes to
# PrairieLearn's grading job log, for instructors. It always writes a results.json: if the grader
# itself fails, one marked not gradable that says so. GRADE_ROOT (default /grade) and LAB9_KIT
# (default /lab9) let the kit's tests run it on a simulated layout.
set -uo pipefail

GRADE_ROOT="${GRADE_ROOT:-/grade}"
KIT="${LAB9_KIT:-/lab9}"
RESULTS="$GRADE_ROOT/results/results.json"
# The same choices as Gradescope's run_autograder: a memory limit under a small container's, a
# fixed seed (regrading repeats every run), hidden tests by name and points until the deadline.
# After the deadline, change --feedback to after-deadline in the image (or in a copy of this
# script given as the entrypoint) and regrade.
GRADE_OPTIONS=(--jobs 1 --memory 512 --seed 20260901 --feedback before-deadline)

mkdir -p "$GRADE_ROOT/results"
rm -f "$RESULTS"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

cd "$KIT" || exit 1
node_modules/.bin/tsx grader/cli/grade.ts "$GRADE_ROOT/student" "${GRADE_OPTIONS[@]}" \
  --out "$OUT" --prairielearn "$RESULTS"
status=$?

if [ ! -s "$RESULTS" ]; then
  cat >"$RESULTS" <<JSON
{
  "gradable": false,
  "score": 0,
  "message": "The autograder failed (exit code $status) before it could grade this submission. This is not a verdict on your code: please tell the course staff.",
  "output": "",
  "tests": []
}
JSON
fi

for log in "$OUT"/*/run.log; do
  [ -f "$log" ] && cat "$log"
done
exit 0
