#!/bin/sh
# Linker that rustc calls (`-C linker=`) for the upstream-LLVM SBF build; see README.md here.
# build-sbf.sh installs a copy in its cache (so RUSTFLAGS do not depend on where the clone is)
# and sets:
#   SCALPEL_SBF_LINKER      the real sbpf-linker binary
#   SCALPEL_SBF_LINK_CRATE  the one cdylib to really link (scalpel)
# Cargo builds every dependency whose [lib] lists "cdylib" (solana-program, spl-token, ...) as a
# shared object too. Nothing uses those, and linking each would run LLVM's BPF codegen over its
# whole dependency graph, so they get an empty file instead.
set -eu
: "${SCALPEL_SBF_LINKER:?set by scripts/build-sbf.sh}"
crate=${SCALPEL_SBF_LINK_CRATE:-scalpel}
out=""
prev=""
for arg in "$@"; do
    [ "$prev" = "-o" ] && out=$arg
    prev=$arg
done
case "${out##*/}" in
    "lib$crate.so" | "lib$crate-"*.so) exec "$SCALPEL_SBF_LINKER" "$@" ;;
    *.so)
        echo "scalpel-sbf-link: not linking dependency cdylib ${out##*/}" >&2
        : > "$out"
        ;;
    *) exec "$SCALPEL_SBF_LINKER" "$@" ;;
esac
