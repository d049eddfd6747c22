//! End-to-end test crate; the suite lives in tests/.
