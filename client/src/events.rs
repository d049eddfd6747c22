//! Decodes Anchor events from transaction logs (`Program data: <base64>`).

use anchor_lang::{AnchorDeserialize, Discriminator};
use base64::Engine;

/// Every event of type `T` in `logs`, in order.
pub fn parse<T: AnchorDeserialize + Discriminator>(logs: &[String]) -> Vec<T> {
    logs.iter()
        .filter_map(|l| {
            let l = l.strip_prefix("Program log: ").unwrap_or(l);
            l.strip_prefix("Program data: ")
        })
        .filter_map(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .filter_map(|bytes| {
            let disc = T::DISCRIMINATOR;
            if bytes.len() < disc.len() || &bytes[..disc.len()] != disc {
                return None;
            }
            T::deserialize(&mut &bytes[disc.len()..]).ok()
        })
        .collect()
}
