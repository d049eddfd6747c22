//! Decoding program accounts from raw bytes (discriminator checked, unaligned-safe).

use anchor_lang::Discriminator;
use anyhow::{bail, Result};
use bytemuck::Pod;
use scalpel::state::{MarginAccount, Market, Protocol};

/// Decodes a zero-copy account: discriminator, then the body read without alignment needs.
pub fn zero_copy<T: Pod + Discriminator>(data: &[u8]) -> Result<T> {
    let disc = T::DISCRIMINATOR;
    let size = core::mem::size_of::<T>();
    if data.len() < disc.len() + size {
        bail!(
            "account too short: {} bytes, need {}",
            data.len(),
            disc.len() + size
        );
    }
    if &data[..disc.len()] != disc {
        bail!("account discriminator mismatch");
    }
    Ok(bytemuck::pod_read_unaligned(
        &data[disc.len()..disc.len() + size],
    ))
}

/// Decodes a `Protocol`.
pub fn protocol(data: &[u8]) -> Result<Protocol> {
    zero_copy(data)
}

/// Decodes a `Market`.
pub fn market(data: &[u8]) -> Result<Market> {
    zero_copy(data)
}

/// Decodes a `MarginAccount`.
pub fn margin_account(data: &[u8]) -> Result<MarginAccount> {
    zero_copy(data)
}
