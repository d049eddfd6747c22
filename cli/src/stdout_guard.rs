//! The program runs natively inside this process, and Anchor's `msg!` prints to standard output
//! off-SBF. While the in-process bank runs, file descriptor 1 is pointed at standard error (or,
//! for the long-running localnet, at /dev/null) so the program's log lines never mix with the
//! command's own output (tables or `--json`).

use std::fs::File;
use std::os::fd::FromRawFd;

/// The command's real standard output, valid while the guard lives.
pub struct StdoutGuard {
    saved: i32,
}

impl StdoutGuard {
    /// Redirects fd 1 to fd 2 and keeps a handle on the original standard output.
    pub fn redirect() -> std::io::Result<StdoutGuard> {
        // SAFETY: plain descriptor duplication; no Rust object owns fd 1 or the duplicate.
        let saved = unsafe { libc::dup(1) };
        if saved < 0 || unsafe { libc::dup2(2, 1) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(StdoutGuard { saved })
    }

    /// Redirects fd 1 to /dev/null and keeps a handle on the original standard output.
    pub fn discard() -> std::io::Result<StdoutGuard> {
        let null = std::fs::OpenOptions::new().write(true).open("/dev/null")?;
        // SAFETY: plain descriptor duplication; `null` keeps its own descriptor until dropped.
        let saved = unsafe { libc::dup(1) };
        if saved < 0 || unsafe { libc::dup2(std::os::fd::AsRawFd::as_raw_fd(&null), 1) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(StdoutGuard { saved })
    }

    /// A writer on the original standard output.
    pub fn out(&self) -> std::io::Result<File> {
        // SAFETY: `saved` is a valid descriptor we own; the File gets its own duplicate.
        let fd = unsafe { libc::dup(self.saved) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(unsafe { File::from_raw_fd(fd) })
    }
}

impl Drop for StdoutGuard {
    fn drop(&mut self) {
        // SAFETY: restores fd 1 from the descriptor saved in `redirect`.
        unsafe {
            libc::dup2(self.saved, 1);
            libc::close(self.saved);
        }
    }
}
