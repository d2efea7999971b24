#!/usr/bin/env bash
# Builds leakguard for the four router CPUs with the `router` profile, and optionally checks each
# build under qemu-user.
#
#   scripts/cross-build.sh [--check] [--test] [--bench] [TARGET...]
#
# TARGET is a Rust triple or an OpenWrt architecture (default: all four):
#
#   mips-unknown-linux-musl         mips_24kc                 qemu-mips-static
#   mipsel-unknown-linux-musl       mipsel_24kc               qemu-mipsel-static
#   armv7-unknown-linux-musleabihf  arm_cortex-a7_neon-vfpv4  qemu-arm-static
#   aarch64-unknown-linux-musl      aarch64_cortex-a53        qemu-aarch64-static
#
# The binaries land in target/<triple>/router/leakguard: static musl, stripped, built for size
# (see size_rustflags below; the mips ones lose their .pdr section too). (The OpenWrt SDK
# links the same code against the router's shared musl instead, see openwrt-package/.)
#
# --check  runs each binary under qemu: `--version` must print the bare package version, and
#          `leakguard scan` over the project's captures (examples/captures, with and without the
#          example config, text and JSON) must print exactly what the x86-64 build prints
#          (target/release/leakguard, brought up to date first).
# --test   builds the library's unit tests for each target (profile `router-test`) and runs them
#          under qemu (cargo's target runner).
# --bench  builds benches/throughput.rs for each target with the router recipe and runs it under
#          qemu: the detector's throughput ratio against a bare aho-corasick scan on that CPU's
#          code (no SIMD prefilter on mips, mipsel, armv7; qemu-user: only the ratio means
#          something).
#
# Needs: cargo-zigbuild and zig (`pip install ziglang cargo-zigbuild`), `rustup component add
# rust-src` (every router build builds std itself: mips/mipsel are rustc tier 3, and std's size
# features need it), llvm-objcopy for the mips .pdr section,
# `rustup target add aarch64-unknown-linux-musl`, qemu-user-static for --check/--test.
# Prints the wall time of each step.
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
test=0
bench=0
targets=()
for arg in "$@"; do
  case "$arg" in
    --check) check=1 ;;
    --test) test=1 ;;
    --bench) bench=1 ;;
    -h | --help) sed -n '2,/^set -/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "cross-build: unknown option $arg" >&2; exit 2 ;;
    *) targets+=("$arg") ;;
  esac
done
all=(mips-unknown-linux-musl mipsel-unknown-linux-musl armv7-unknown-linux-musleabihf
  aarch64-unknown-linux-musl)
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

# triple <- triple or OpenWrt architecture
triple_of() {
  case "$1" in
    mips_24kc | mips-unknown-linux-musl) echo mips-unknown-linux-musl ;;
    mipsel_24kc | mipsel-unknown-linux-musl) echo mipsel-unknown-linux-musl ;;
    arm_cortex-a7_neon-vfpv4 | armv7-unknown-linux-musleabihf) echo armv7-unknown-linux-musleabihf ;;
    aarch64_cortex-a53 | aarch64-unknown-linux-musl) echo aarch64-unknown-linux-musl ;;
    *) echo "cross-build: unknown target $1 (one of: ${all[*]})" >&2; return 2 ;;
  esac
}

# The per-target recipe. RUSTFLAGS go through CARGO_TARGET_<TRIPLE>_RUSTFLAGS so host builds in
# the same target directory keep theirs (and keep their cache).
#  - mips/mipsel: non-PIE static (`relocation-model=static`): rustc's default static-pie MIPS
#    binary segfaults at start under qemu-user 7.2, even a hello world.
#  - armv7: musl's start files come from zig, not from rustc's self-contained copies.
rustflags_of() {
  case "$1" in
    mips-* | mipsel-*) echo "-C relocation-model=static" ;;
    armv7-*) echo "-C link-self-contained=no" ;;
    *) echo "" ;;
  esac
}

# What the router binary adds to that, for size (BENCHMARKS.md "Stripped binary sizes"):
#  - std built here for every target (aarch64 too) with `optimize_for_size` and without its
#    default `backtrace` feature: the panic hook's DWARF symboliser (gimli, addr2line, the
#    unwinder: 215 KB on mips) goes, panic messages stay (they never print a backtrace then);
#  - `-Z location-detail=none`: no source file/line/column strings for panics (a panic says
#    `<redacted>:0:0`), which the daemon's own errors never used;
#  - no unwind tables (`force-unwind-tables=no`): with panic=abort nothing unwinds;
#  - `-Z fmt-debug=shallow`: derived `Debug` prints the type's name only (no output of ours
#    uses `{:?}`; hand-written ones, such as the quoting in serde's and toml's error messages,
#    are unchanged).
# The library tests (`--test`, profile router-test) keep the default std (they unwind, and a
# failing test names its line) but with `optimize_for_size`, so they run std's same algorithms.
size_rustflags="-Z location-detail=none -Z fmt-debug=shallow -C force-unwind-tables=no"
build_std_of() {
  case "$2" in
    zigbuild) echo "-Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size" ;;
    *)
      case "$1" in
        aarch64-*) echo "" ;;
        *) echo "-Zbuild-std=std,panic_abort -Zbuild-std-features=panic-unwind,optimize_for_size" ;;
      esac
      ;;
  esac
}
qemu_of() {
  case "$1" in
    mips-*) echo qemu-mips-static ;;
    mipsel-*) echo qemu-mipsel-static ;;
    armv7-*) echo qemu-arm-static ;;
    aarch64-*) echo qemu-aarch64-static ;;
  esac
}

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
captures=(examples/captures/*.pcap)
failures=0

# cargo-zigbuild SUBCOMMAND TRIPLE ARGS... with the target's recipe in the environment.
cargo_for() {
  local sub=$1 triple=$2
  shift 2
  local upper
  upper=$(echo "$triple" | tr 'a-z-' 'A-Z_')
  local -a std
  read -r -a std <<<"$(build_std_of "$triple" "$sub")"
  local flags
  flags=$(rustflags_of "$triple")
  [ "$sub" != zigbuild ] || flags="$flags $size_rustflags"
  env "CARGO_TARGET_${upper}_RUSTFLAGS=$flags" \
    "CARGO_TARGET_${upper}_RUNNER=$(qemu_of "$triple")" \
    RUSTC_BOOTSTRAP=1 \
    cargo-zigbuild "$sub" "${std[@]}" --target "$triple" "$@"
}

# MIPS: LLVM writes a `.pdr` section (procedure descriptors for old debuggers, never loaded)
# that the linker's --strip-all keeps: 119 KB of the mips binary. Any objcopy that knows MIPS
# ELF removes it (Debian: llvm, or binutils-mips-linux-gnu).
drop_pdr() {
  local bin=$1 tool
  for tool in llvm-objcopy llvm-objcopy-{19,18,17,16,15,14} mips-linux-gnu-objcopy \
    mipsel-linux-gnu-objcopy; do
    if command -v "$tool" >/dev/null; then
      "$tool" --remove-section=.pdr "$bin"
      return
    fi
  done
  echo "cross-build: warning: no llvm-objcopy or mips-linux-gnu-objcopy: $bin keeps its" \
    ".pdr section (about 120 KB)" >&2
}

timed() {
  local label=$1 start=$SECONDS
  shift
  "$@"
  echo "cross-build: $label: $((SECONDS - start)) s"
}

# The findings of one scan, as the exit status and stdout (the summary on stderr names no
# architecture either, so it is compared too).
scan_all() {
  local bin=$1 runner=$2 out=$3
  : >"$out"
  local c cfg fmt rc
  for c in "${captures[@]}"; do
    for cfg in "" examples/nokia7plus.toml; do
      for fmt in text json; do
        echo "== $c config=${cfg:-none} format=$fmt" >>"$out"
        rc=0
        # shellcheck disable=SC2086
        $runner "$bin" scan ${cfg:+--config "$cfg"} --format "$fmt" "$c" >>"$out" 2>&1 || rc=$?
        echo "== exit $rc" >>"$out"
      done
    done
  done
}

check_target() {
  local triple=$1 qemu bin out
  qemu=$(qemu_of "$triple")
  bin=target/$triple/router/leakguard
  out=$("$qemu" "$bin" --version)
  # Exactly what the x86-64 build prints: the name and the bare package version (no
  # architecture, no build suffix), as the feed's test-version.sh expects.
  if [ "$out" = "leakguard $version" ]; then
    echo "cross-build: $triple: --version printed \"$out\""
  else
    echo "cross-build: $triple: --version printed \"$out\", not the bare version $version" >&2
    failures=$((failures + 1))
  fi
  scan_all "$bin" "$qemu" "target/cross-scan.$triple.txt"
  if cmp -s target/cross-scan.x86_64.txt "target/cross-scan.$triple.txt"; then
    echo "cross-build: $triple: scan of ${#captures[@]} captures ×4 matches x86-64" \
      "($(grep -c '"kind"' "target/cross-scan.$triple.txt") JSON findings)"
  else
    echo "cross-build: $triple: scan differs from x86-64:" >&2
    diff target/cross-scan.x86_64.txt "target/cross-scan.$triple.txt" >&2 || true
    failures=$((failures + 1))
  fi
}

if [ $check = 1 ]; then
  # Always (a no-op when fresh): a stale x86-64 binary would compare against older findings.
  timed "x86-64 release build" cargo build --release --bin leakguard
  scan_all target/release/leakguard "" target/cross-scan.x86_64.txt
fi

for t in "${targets[@]}"; do
  triple=$(triple_of "$t")
  timed "$triple: build (profile router)" cargo_for zigbuild "$triple" --profile router --bin leakguard
  bin=target/$triple/router/leakguard
  case "$triple" in mips-* | mipsel-*) drop_pdr "$bin" ;; esac
  echo "cross-build: $triple: $bin $(stat -c %s "$bin") bytes"
  if [ $check = 1 ]; then
    check_target "$triple"
  fi
  if [ $bench = 1 ]; then
    # -Zpanic-abort-tests: cargo builds benches with panic=unwind otherwise, which the size
    # recipe's std (no panic-unwind) cannot link; this way the bench runs the shipped code.
    timed "$triple: throughput bench build" cargo_for zigbuild "$triple" --profile router \
      -Zpanic-abort-tests --bench throughput
    benchbin=$(find "target/$triple/router/deps" -maxdepth 1 -type f -executable \
      -name 'throughput-*' -printf '%T@ %p\n' | sort -n | tail -n1 | cut -d' ' -f2)
    timed "$triple: throughput bench under $(qemu_of "$triple")" "$(qemu_of "$triple")" "$benchbin"
  fi
  if [ $test = 1 ]; then
    if ! timed "$triple: library tests under $(qemu_of "$triple")" \
      cargo_for test "$triple" --profile router-test --lib; then
      echo "cross-build: $triple: library tests failed" >&2
      failures=$((failures + 1))
    fi
  fi
done

if [ $failures -gt 0 ]; then
  echo "cross-build: $failures check(s) failed" >&2
  exit 1
fi
