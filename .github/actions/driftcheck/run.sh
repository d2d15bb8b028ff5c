#!/usr/bin/env bash
# driftcheck compare with the action's inputs (action.yml passes them as INPUT_* environment variables, never
# pasted into the script, so no input can inject shell): run.sh FORMAT [OUTPUT]. Exits with driftcheck's code:
# 0 passed, 1 a finding at or above INPUT_FAIL_ON (with INPUT_BASELINE_FILE: a new one), 2 bad input.
set -euo pipefail
set -f  # the lists below are split on whitespace, never globbed

format=$1
output=${2:-}
if [ -z "${INPUT_TARGET:-}" ]; then
  echo "driftcheck action: the input 'target' is required" >&2
  exit 2
fi

args=(compare "$INPUT_TARGET")
for peer in ${INPUT_BASELINES:-}; do args+=("$peer"); done
for evidence in ${INPUT_FROM:-}; do args+=(--from "$evidence"); done
if [ -n "${INPUT_SNAPSHOT:-}" ]; then args+=(--from "$INPUT_SNAPSHOT"); fi  # the live project, read once
if [ -n "${INPUT_BASELINE_FILE:-}" ]; then args+=(--baseline-file "$INPUT_BASELINE_FILE"); fi
args+=(--fail-on "${INPUT_FAIL_ON:-high}" --format "$format")
if [ -n "$output" ]; then args+=(-o "$output"); fi

echo "driftcheck ${args[*]}" >&2
exec driftcheck "${args[@]}"
