//! `memcpy`/`memmove`/`memset`/`memcmp` for the upstream-LLVM SBF build (`scripts/build-sbf.sh`).
//!
//! LLVM lowers large or variable-size copies, fills and compares to calls to these C functions.
//! Solana's platform-tools toolchain ships them (a second definition there would clash), so this
//! module is compiled only with the `sbf-upstream-llvm` feature on `target_os = "solana"`: the
//! build script enables it, `anchor build` / `cargo build-sbf` never do. Each one forwards to the
//! runtime's `sol_mem*_` syscall; the linker is told to export them so they survive
//! internalization.

extern "C" {
    fn sol_memcpy_(dst: *mut u8, src: *const u8, n: u64);
    fn sol_memmove_(dst: *mut u8, src: *const u8, n: u64);
    fn sol_memset_(s: *mut u8, c: u8, n: u64);
    fn sol_memcmp_(s1: *const u8, s2: *const u8, n: u64, result: *mut i32);
}

/// # Safety
/// C `memcpy`: `dst` and `src` valid for `n` bytes and not overlapping.
#[no_mangle]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    sol_memcpy_(dst, src, n as u64);
    dst
}

/// # Safety
/// C `memmove`: `dst` and `src` valid for `n` bytes (they may overlap).
#[no_mangle]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    sol_memmove_(dst, src, n as u64);
    dst
}

/// # Safety
/// C `memset`: `s` valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memset(s: *mut u8, c: i32, n: usize) -> *mut u8 {
    sol_memset_(s, c as u8, n as u64);
    s
}

/// # Safety
/// C `memcmp`: `s1` and `s2` valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcmp(s1: *const u8, s2: *const u8, n: usize) -> i32 {
    let mut result: i32 = 0;
    sol_memcmp_(s1, s2, n as u64, &mut result);
    result
}
