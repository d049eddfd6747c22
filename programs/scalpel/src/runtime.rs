//! Event emission and return data. On SBF this is exactly Anchor's `emit!` (`sol_log_data`). Natively (the
//! in-process test bank) Anchor's `sol_log_data` is a no-op, so the same bytes go to the
//! `sol_log_data` syscall stub, which the patched program-test logs as the runtime does
//! (`Program data: <base64>`, patches/README.md).

use anchor_lang::Event;

/// Emits `event` so indexers, bots and tests can decode it from the transaction logs.
pub fn emit_event<E: Event>(event: &E) {
    let data = event.data();
    #[cfg(target_os = "solana")]
    anchor_lang::solana_program::log::sol_log_data(&[&data]);
    #[cfg(not(target_os = "solana"))]
    solana_sysvar::program_stubs::sol_log_data(&[&data]);
}

/// Logs `message` as `Program log: <message>`, on SBF and natively alike (natively `msg!` prints
/// to standard output, so the test bank's transaction logs would not carry it). For the few
/// refusals whose log line tells the user what to do next (when a window resets).
pub fn log(message: &str) {
    #[cfg(target_os = "solana")]
    anchor_lang::solana_program::log::sol_log(message);
    #[cfg(not(target_os = "solana"))]
    solana_sysvar::program_stubs::sol_log(message);
}

/// Natively, Anchor's return-data path (`solana_cpi::set_return_data`) is a no-op, so a view's
/// return value is also handed to the syscall stub program-test collects. On SBF this does
/// nothing: Anchor already sets the return data from the handler's `Ok` value.
pub fn mirror_return_data<T: anchor_lang::AnchorSerialize>(value: &T) {
    #[cfg(not(target_os = "solana"))]
    if let Ok(bytes) = value.try_to_vec() {
        solana_sysvar::program_stubs::sol_set_return_data(&bytes);
    }
    #[cfg(target_os = "solana")]
    let _ = value;
}

/// With the `cu-trace` feature, logs `cu: <phase>` and the compute units left
/// (`sol_log_compute_units`), so a run on the SBF VM shows what each phase costs; compiled out
/// otherwise. The log calls themselves cost about 100 units each.
#[macro_export]
macro_rules! cu_trace {
    ($phase:literal) => {
        #[cfg(feature = "cu-trace")]
        {
            anchor_lang::prelude::msg!(concat!("cu: ", $phase));
            solana_program::log::sol_log_compute_units();
        }
    };
}
