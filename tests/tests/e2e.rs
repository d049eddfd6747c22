//! End-to-end suite: the program runs natively in-process and is driven through the client,
//! with real SPL Token CPIs and real Pyth account bytes.

mod cases;
mod program_test;
