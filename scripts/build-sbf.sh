#!/usr/bin/env bash
# Builds the on-chain program as an SBPF v0 shared object, scalpel.so, on a machine WITHOUT Solana's
# platform-tools, from package registries only (Debian apt, PyPI, crates.io):
#
#   rustc 1.96 (Debian rustc-web)  ->  LLVM bitcode for a custom target (scripts/sbf/*.json, os=solana)
#   with std rebuilt from a patched copy of Debian's rust-web-src (scripts/sbf/*.patch)
#   ->  sbpf-linker 0.2.6, built here statically against LLVM 23.1.1 (PyPI mlc-llvm-static)
#   ->  $SBF_OUT_DIR/scalpel.so, which solana-program-test loads when SBF_OUT_DIR is set.
#
# Why each piece is needed: scripts/sbf/README.md. With platform-tools, use `anchor build` instead.
#
# Everything fetched or built lives under $SCALPEL_SBF_CACHE (default ~/.cache/scalpel-sbf) and is
# reused: a run with nothing changed takes seconds. Nothing is written inside the repository.
#
# Environment:
#   SCALPEL_SBF_CACHE  cache root                    (default $HOME/.cache/scalpel-sbf)
#   SBF_OUT_DIR        where scalpel.so is copied    (default $SCALPEL_SBF_CACHE/deploy)
#   CARGO_BUILD_JOBS   parallel rustc jobs           (default 2)
#   PYTHON             interpreter for the LLVM venv (default python3)
#   SCALPEL_SBF_FEATURES  extra program features, comma-separated (e.g. cu-trace: logs the compute
#                         units left at each phase; docs/BENCHMARKS.md)
set -euo pipefail
shopt -s inherit_errexit # a failure inside $(...) stops the script too

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SBF=$REPO/scripts/sbf
CACHE=${SCALPEL_SBF_CACHE:-$HOME/.cache/scalpel-sbf}
OUT=${SBF_OUT_DIR:-$CACHE/deploy}
JOBS=${CARGO_BUILD_JOBS:-2}
PYTHON=${PYTHON:-python3}

RUST_RELEASE=1.96                  # the std patches are written against this std
DEB_RUSTC=/usr/bin/rustc           # Debian rustc-web (rustup's proxies stay first in PATH)
DEB_CARGO=/usr/bin/cargo
DEB_RUST_LIBRARY=/usr/lib/rustlib/src/rust/library
DEB_PACKAGES=(rustc-web cargo-web rust-web-src g++ patch python3-venv)
LLVM_WHEELS_VERSION=23.1.1.post0   # mlc-llvm-static(-extra-targets): static LLVM 23 with BPF
LLVM_RELEASE=23.1.1
SBPF_LINKER_VERSION=0.2.6
CRATE=scalpel

start=$(date +%s)
step() { echo "== build-sbf: $1 ($(($(date +%s) - start))s)"; }
die() { echo "build-sbf: error: $*" >&2; exit 1; }
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)

# 1. Debian packages ----------------------------------------------------------------------------
step "Debian packages"
missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    sudo=()
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || die "not root and no sudo: apt-get install ${missing[*]}"
        sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
rustc_release=$("$DEB_RUSTC" -vV | sed -n 's/^release: //p')
[[ $rustc_release == "$RUST_RELEASE".* ]] \
    || die "$DEB_RUSTC is $rustc_release; scripts/sbf/*.patch are written for $RUST_RELEASE.x"
[ -d "$DEB_RUST_LIBRARY/std" ] || die "no std source at $DEB_RUST_LIBRARY (package rust-web-src)"

# 2. LLVM 23 (static libraries with the BPF backend) in a Python venv: only to build the linker ----
llvm_prefix() {
    local venv=$CACHE/venv
    if [ ! -f "$venv/.scalpel-llvm-$LLVM_WHEELS_VERSION" ]; then
        step "LLVM $LLVM_RELEASE venv (PyPI mlc-llvm-static $LLVM_WHEELS_VERSION)" >&2
        rm -rf "$venv"
        "$PYTHON" -m venv "$venv" >&2
        "$venv/bin/pip" install --quiet --disable-pip-version-check \
            "mlc-llvm-static==$LLVM_WHEELS_VERSION" "mlc-llvm-static-extra-targets==$LLVM_WHEELS_VERSION" >&2
        touch "$venv/.scalpel-llvm-$LLVM_WHEELS_VERSION"
    fi
    local prefix
    prefix=$("$venv/bin/python" -m mlc_llvm_static.config --prefix)
    [ -d "$prefix/lib" ] || die "mlc-llvm-static gave no prefix ($prefix)"
    echo "$prefix"
}

# 3. sbpf-linker, statically linked to that LLVM ---------------------------------------------------
step "sbpf-linker $SBPF_LINKER_VERSION"
TOOLS=$CACHE/tools
LINKER=$TOOLS/bin/sbpf-linker
linker_ok() {
    local v
    v=$("$LINKER" --version 2>/dev/null) || return 1
    [[ $v == *"sbpf-linker $SBPF_LINKER_VERSION"* && $v == *"LLVM $LLVM_RELEASE"* ]]
}
if ! linker_ok; then
    LLVM_PREFIX=$(llvm_prefix)
    # bpf-linker's llvm-link-static links every libLLVM*.a of the prefix, plus static libstdc++,
    # zlib and zstd (the wheel ships the last two).
    libstdcxx=$(g++ -print-file-name=libstdc++.a)
    [ -f "$libstdcxx" ] || die "no static libstdc++ (package g++)"
    env PATH="$LLVM_PREFIX/bin:$PATH" \
        LLVM_PREFIX="$LLVM_PREFIX" LLVM_SYS_231_PREFIX="$LLVM_PREFIX" \
        ZLIB_PATH="$LLVM_PREFIX/lib" LIBZSTD_PATH="$LLVM_PREFIX/lib" \
        CXXSTDLIB_PATH="$(dirname "$libstdcxx")" \
        RUSTC="$DEB_RUSTC" CARGO_TARGET_DIR="$CACHE/target-tools" CARGO_BUILD_JOBS="$JOBS" \
        nice -n 15 "$DEB_CARGO" install sbpf-linker --version "$SBPF_LINKER_VERSION" --locked --force \
        --no-default-features --features bpf-linker/llvm-23,bpf-linker/llvm-link-static \
        --root "$TOOLS"
    linker_ok || die "$LINKER --version: $("$LINKER" --version 2>&1 || true)"
    rm -rf "$CACHE/target-tools"
fi
"$LINKER" --version | tr '\n' ' '
echo

# The linker wrapper and the target spec are copied into the cache: the paths rustc sees then do not
# depend on where the clone is, so a new clone (CI) reuses the dependency builds.
install_if_changed() { cmp -s "$1" "$2" || install -D -m "$3" "$1" "$2"; }
install_if_changed "$SBF/link.sh" "$TOOLS/bin/scalpel-sbf-link" 755

# 4. std source: Debian's rust-web-src library + the project's patches ------------------------------
# Keyed by rustc, patches and target spec: cargo does not notice edits to -Zbuild-std sources, but a
# new path is a new package to it, so a changed patch rebuilds std.
step "patched std source"
key=$({ "$DEB_RUSTC" -vV; cat "$SBF"/std-solana.patch "$SBF"/compiler-builtins-bpf.patch \
    "$SBF"/bpfel-solana-solana.json; } | sha256sum | cut -c1-16)
STD=$CACHE/std/$key
if [ ! -f "$STD/.complete" ]; then
    rm -rf "$CACHE/std"
    mkdir -p "$STD"
    cp -a "$DEB_RUST_LIBRARY" "$STD/library"
    for patch in std-solana compiler-builtins-bpf; do
        patch -p1 --batch --quiet -d "$STD/library" < "$SBF/$patch.patch"
    done
    cp "$SBF/bpfel-solana-solana.json" "$STD/"
    touch "$STD/.complete"
fi
TARGET_SPEC=$STD/bpfel-solana-solana.json

# 5. Build -------------------------------------------------------------------------------------------
step "cargo build -p $CRATE (std + dependencies + program)"
# shellcheck disable=SC2054 # the commas are inside one argument
rustflags=(
    -Zunstable-options
    -C "linker=$TOOLS/bin/scalpel-sbf-link"
    -C target-cpu=v2
    -C target-feature=+allows-misaligned-mem-access
    -C passes=lower-atomic # singlethreaded: LLVM's BPF backend cannot select most atomics
    -C link-arg=--arch=v0  # the SBPF version agave 2.x loads
    -C link-arg=--llvm-args=--bpf-stack-size=4096
    -C link-arg=--export=memset,memcpy,memmove,memcmp # src/sbf_mem.rs, kept from internalization
)
unset RUSTFLAGS CARGO_BUILD_RUSTFLAGS CARGO_BUILD_TARGET
(
    cd "$REPO"
    export RUSTC=$DEB_RUSTC RUSTC_BOOTSTRAP=1
    # std's build script would mark an unknown target `restricted_std`; this tells it not to.
    export RUSTC_BOOTSTRAP_SYNTHETIC_TARGET=1
    export __CARGO_TESTS_ONLY_SRC_ROOT=$STD/library
    # (0x1f-separated, so a cache path with spaces stays one argument)
    CARGO_ENCODED_RUSTFLAGS=$(IFS=$'\x1f' && echo "${rustflags[*]}")
    export CARGO_ENCODED_RUSTFLAGS
    export CARGO_TARGET_DIR=$CACHE/target CARGO_BUILD_JOBS=$JOBS
    export SCALPEL_SBF_LINKER=$LINKER SCALPEL_SBF_LINK_CRATE=$CRATE
    features=sbf-upstream-llvm${SCALPEL_SBF_FEATURES:+,$SCALPEL_SBF_FEATURES}
    nice -n 15 "$DEB_CARGO" build --locked --release -p "$CRATE" --features "$features" \
        --target "$TARGET_SPEC" -Zjson-target-spec -Zbuild-std=std,panic_abort
)
so=$CACHE/target/bpfel-solana-solana/release/lib$CRATE.so
[ -s "$so" ] || die "no $so"
# ELF, 64-bit, little-endian, e_machine 247 (EM_BPF)
[ "$(od -An -tx1 -N6 "$so" | tr -d ' ')" = 7f454c460201 ] || die "$so is not an ELF64 LE file"
[ "$(od -An -tu2 -j18 -N2 "$so" | tr -d ' ')" = 247 ] || die "$so is not a BPF ELF"

mkdir -p "$OUT"
cmp -s "$so" "$OUT/$CRATE.so" || cp "$so" "$OUT/$CRATE.so"
step "done"
echo "$OUT/$CRATE.so $(stat -c %s "$OUT/$CRATE.so") bytes"
echo "run the tests on it: SBF_OUT_DIR=$OUT cargo test -p scalpel-tests --test e2e"
