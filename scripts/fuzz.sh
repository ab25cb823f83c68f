#!/usr/bin/env bash
# Fuzzes every parser with cargo fuzz (libFuzzer, nightly toolchain) for SECONDS each (default
# 60), then prints one line per target: executions, seconds, crashes. Installs cargo-fuzz when
# it is missing. A crash, hang (10 s) or out-of-memory (2 GiB) input is saved under
# fuzz/artifacts/<target>/ and the script fails; once fixed, copy the input to
# fuzz/regressions/<target>/ so that `cargo test --test fuzz_regressions` replays it for good.
# Inputs start from fuzz/seeds/<target>/ (committed) plus what earlier runs found (fuzz/corpus/,
# filled from the committed, minimized fuzz/corpora/<target>.tar.xz when empty).
#
#   scripts/fuzz.sh            # 60 s per target (what .ci/run does)
#   scripts/fuzz.sh 1800       # the 30-minute campaign per target
#   scripts/fuzz.sh 60 cdr     # one target
#
# The run is seeded (FUZZ_SEED, default 1) so that CI explores the same inputs as the run that
# was checked before landing; FUZZ_SEED=0 lets libFuzzer pick a seed (long campaigns).
# FUZZ_JOBS=N fuzzes N targets at a time (default: one per core).
# FUZZ_RUNS=N also ends a target after N executions, whichever comes first: issue 18's campaign
# is `FUZZ_SEED=0 FUZZ_RUNS=10000000 scripts/fuzz.sh 1800` (10 million or 30 minutes each).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
seed=${FUZZ_SEED:-1}
runs_flag=()
if [ -n "${FUZZ_RUNS:-}" ]; then runs_flag=(-runs="$FUZZ_RUNS"); fi
shift || true
targets=${*:-"scenario urdf model_meta plan_answer instruction cdr mcap"}
if ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzz: cargo fuzz needs the nightly toolchain: rustup toolchain install nightly" >&2
  exit 1
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cd fuzz
cargo +nightly fuzz build
# One target: its result line goes to $results/<target> (and its log's tail to stderr if it
# failed).
fuzz_one() {
  local t=$1 malloc_limit=2048 max_len
  case $t in
    # The mcap crate (through binrw) reserves a string's declared length, up to 4 GiB, before
    # reading it; the reservation is virtual memory, never touched, and freed when the read
    # fails. Resident memory stays capped at 2 GiB (-rss_limit_mb); see the README.
    mcap) max_len=65536 malloc_limit=4300 ;;
    urdf) max_len=65536 ;;
    scenario) max_len=16384 ;;
    *) max_len=4096 ;;
  esac
  # corpus/ is the working corpus (kept between runs, not committed); seeds/ the committed start.
  # corpora/<target>.tar.xz (committed) is the long campaign's corpus, minimized with
  # `cargo fuzz cmin`: it fills an empty corpus/<target>, so that a fresh clone (CI) fuzzes on
  # from where the campaign got to. Python unpacks it (xz may not be installed; Python is).
  if [ -z "$(ls -A "corpus/$t" 2>/dev/null)" ] && [ -f "corpora/$t.tar.xz" ]; then
    mkdir -p corpus
    python3 - "corpora/$t.tar.xz" corpus <<'PY'
import sys, tarfile
archive = tarfile.open(sys.argv[1])
try:
    archive.extractall(sys.argv[2], filter="data")  # Python >= 3.11.4
except TypeError:
    archive.extractall(sys.argv[2])
PY
  fi
  mkdir -p "corpus/$t"
  local log result began runs took
  log=$(mktemp)
  began=$(date +%s)
  # The build is done above: `run` only checks it.
  if cargo +nightly fuzz run "$t" "corpus/$t" "seeds/$t" -- -max_total_time="$seconds" -seed="$seed" -timeout=10 \
    -rss_limit_mb=2048 -malloc_limit_mb=$malloc_limit -max_len=$max_len -print_final_stats=1 "${runs_flag[@]}" \
    >"$log" 2>&1; then
    result=ok
  else
    result="FAILED (input in fuzz/artifacts/$t/)"
    tail -n 40 "$log" >&2
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  took=$(( $(date +%s) - began ))
  echo "fuzz: $t: $runs executions in $took s (limit $seconds s${FUZZ_RUNS:+ or $FUZZ_RUNS runs}): $result" >"$results/$t"
  rm -f "$log"
}

# libFuzzer runs a target on one core: FUZZ_JOBS targets at a time (default: one per core), so
# CI's 60 s per target take 60 s per core.
jobs=${FUZZ_JOBS:-$(nproc)}
results=$(mktemp -d)
for t in $targets; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  fuzz_one "$t" &
done
wait
status=0
for t in $targets; do
  cat "$results/$t"
  grep -q ': ok$' "$results/$t" || status=1
done
rm -rf "$results"
exit $status
