#!/bin/sh
# One entry point for people and CI: install what is missing from Debian, build, then
# start attnlens (`start`), run every test (`test`), or fuzz for a while (`fuzz SECONDS`).
set -eu
cd "$(dirname "$0")/.."

BUILD_PKGS="gcc meson ninja-build pkg-config libgtk-4-dev libopenblas-dev libcjson-dev fonts-dejavu-core"
TEST_PKGS="python3-sentencepiece clang libclang-rt-14-dev xvfb xauth desktop-file-utils appstream python3"

# Installs the Debian packages of $* that are not installed yet (needs root for apt-get).
need() {
  missing=""
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  echo "Installing Debian packages:$missing"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
}

# meson setup that also works on an existing build directory.
setup() {
  dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then meson setup --reconfigure "$dir" "$@" >/dev/null
  else meson setup "$dir" "$@"; fi
}

start() {
  need $BUILD_PKGS
  setup build-release --buildtype=release
  ninja -C build-release
  exec ./build-release/app/attnlens "$@"
}

run_tests() {
  need $BUILD_PKGS $TEST_PKGS
  setup build-test --buildtype=debug -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false
  ninja -C build-test
  status=0
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 meson test -C build-test --print-errorlogs \
    --num-processes 2 || status=$?
  fuzz 20 || status=1
  python3 scripts/test_summary.py build-test/meson-logs/testlog.json fuzz-summary || status=1
  return $status
}

# Builds the libFuzzer harnesses with clang and runs each for $1 seconds on a scratch copy
# of its seed corpus; a crash fails.
fuzz() {
  secs=${1:-60}
  need clang libclang-rt-14-dev $BUILD_PKGS
  fuzz_dir=${FUZZ_BUILD:-build-fuzz}
  # gui=auto: the image harness needs gdk-pixbuf; only the harnesses are built
  CC=clang setup "$fuzz_dir" --buildtype=debug -Dfuzz=true -Dgui=auto \
    -Db_sanitize=address,undefined -Db_lundef=false
  harnesses="safetensors trace_json spm config babi image"
  ninja -C "$fuzz_dir" $(for h in $harnesses; do echo "tests/fuzz/fuzz_$h"; done)
  : > fuzz-summary
  for h in $harnesses; do
    corpus=$(mktemp -d)
    [ -d "tests/fuzz/corpus_$h" ] && cp -r "tests/fuzz/corpus_$h/." "$corpus/"
    # system libraries (GLib's type system, fontconfig) keep caches LeakSanitizer would report
    if LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp" ./$fuzz_dir/tests/fuzz/fuzz_$h \
        -max_total_time="$secs" -rss_limit_mb=2048 -timeout=30 \
        -artifact_prefix="$fuzz_dir/fuzz_$h-" "$corpus" > "$fuzz_dir/fuzz_$h.log" 2>&1; then
      echo "fuzz_$h ok" >> fuzz-summary
      echo "fuzz_$h: $(grep -E '^(#[0-9]+|Done)' "$fuzz_dir/fuzz_$h.log" | tail -n 1)"
    else
      echo "fuzz_$h FAILED" >> fuzz-summary
      tail -n 30 "$fuzz_dir/fuzz_$h.log"
    fi
    rm -rf "$corpus"
  done
  ! grep -q FAILED fuzz-summary
}

case "${1:-}" in
  start) shift; start "$@" ;;
  test) run_tests ;;
  fuzz) fuzz "${2:-600}" ;;
  *) echo "usage: scripts/dev.sh start|test|fuzz [SECONDS]" >&2; exit 2 ;;
esac
