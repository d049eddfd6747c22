//! Scalpel client.
