//! The committed IDL (`idl/scalpel.json`, `cargo run -p xtask -- idl`) describes the program's
//! real account bytes.
//!
//! @coral-xyz/anchor decodes every account with Borsh from the IDL's field list, whatever the
//! `serialization` (`bytemuck`) and `repr` (`c`) say: the fields are read one after another with
//! no padding. That reads a zero-copy account correctly exactly when its `repr(C)` layout has no
//! implicit padding, i.e. when the sizes of its fields, in the IDL's (declaration) order, add up
//! to `size_of` of the type: then every field sits at the sum of the sizes before it, which is
//! where Borsh reads it. This checks that for every zero-copy type, and the account
//! discriminators. (`ts/` decodes live accounts of a localnet with @coral-xyz/anchor.)

use anchor_lang::Discriminator;
use scalpel::math::WrappedI80F48;
use scalpel::state::{
    MarginAccount, Market, PendingMarketChange, PendingProtocolChange, Position, Protocol,
    RiskGuards, WeightShift,
};
use serde_json::Value;
use std::collections::BTreeMap;

fn idl() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../idl/scalpel.json");
    let text = std::fs::read_to_string(path).expect("idl/scalpel.json");
    serde_json::from_str(&text).expect("the IDL is JSON")
}

fn types(idl: &Value) -> BTreeMap<String, Value> {
    idl["types"]
        .as_array()
        .expect("types")
        .iter()
        .map(|t| (t["name"].as_str().expect("name").to_string(), t.clone()))
        .collect()
}

/// Bytes Borsh reads for `ty` (fixed-size types only: zero-copy accounts have no others).
fn borsh_size(ty: &Value, types: &BTreeMap<String, Value>) -> usize {
    if let Some(p) = ty.as_str() {
        return match p {
            "u8" | "i8" | "bool" => 1,
            "u16" | "i16" => 2,
            "u32" | "i32" | "f32" => 4,
            "u64" | "i64" | "f64" => 8,
            "u128" | "i128" => 16,
            "pubkey" => 32,
            other => panic!("variable-size type {other} in a zero-copy layout"),
        };
    }
    if let Some([elem, len]) = ty["array"].as_array().map(Vec::as_slice) {
        return borsh_size(elem, types) * len.as_u64().expect("array length") as usize;
    }
    let name = ty["defined"]["name"].as_str().expect("a defined type");
    let def = &types[name];
    assert_eq!(def["type"]["kind"], "struct", "{name}");
    def["type"]["fields"]
        .as_array()
        .expect("named fields")
        .iter()
        .map(|f| borsh_size(&f["type"], types))
        .sum()
}

#[test]
fn zero_copy_layouts_are_what_borsh_reads() {
    let idl = idl();
    let types = types(&idl);
    let rust: BTreeMap<&str, usize> = [
        ("Protocol", size_of::<Protocol>()),
        ("PendingProtocolChange", size_of::<PendingProtocolChange>()),
        ("Market", size_of::<Market>()),
        ("PendingMarketChange", size_of::<PendingMarketChange>()),
        ("WeightShift", size_of::<WeightShift>()),
        ("RiskGuards", size_of::<RiskGuards>()),
        ("MarginAccount", size_of::<MarginAccount>()),
        ("Position", size_of::<Position>()),
        ("WrappedI80F48", size_of::<WrappedI80F48>()),
    ]
    .into();
    let zero_copy: Vec<&String> = types
        .iter()
        .filter(|(_, t)| t["serialization"] == "bytemuck")
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        zero_copy,
        rust.keys().copied().collect::<Vec<_>>(),
        "every zero-copy type of the IDL is checked here, and only those"
    );
    for (name, size) in rust {
        let def = &types[name];
        assert_eq!(def["repr"]["kind"], "c", "{name} is repr(C)");
        let ty = serde_json::json!({ "defined": { "name": name } });
        assert_eq!(
            borsh_size(&ty, &types),
            size,
            "{name}: the IDL's fields add up to size_of (no implicit padding)"
        );
    }
}

#[test]
fn accounts_and_their_discriminators() {
    let idl = idl();
    let accounts: BTreeMap<&str, Vec<u8>> = idl["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| {
            let d = a["discriminator"].as_array().expect("discriminator");
            (
                a["name"].as_str().expect("name"),
                d.iter().map(|b| b.as_u64().expect("byte") as u8).collect(),
            )
        })
        .collect();
    let expected: BTreeMap<&str, Vec<u8>> = [
        ("MarginAccount", MarginAccount::DISCRIMINATOR.to_vec()),
        ("Market", Market::DISCRIMINATOR.to_vec()),
        ("Protocol", Protocol::DISCRIMINATOR.to_vec()),
    ]
    .into();
    assert_eq!(accounts, expected);
    assert_eq!(idl["address"], scalpel::ID.to_string());
}

#[test]
fn events_and_return_types_are_described() {
    let idl = idl();
    let types = types(&idl);
    let event = |name: &str| {
        idl["events"]
            .as_array()
            .expect("events")
            .iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("event {name}"))
            .clone()
    };
    assert_eq!(
        event("LiquidationEvent")["discriminator"],
        serde_json::json!(<scalpel::events::LiquidationEvent as Discriminator>::DISCRIMINATOR)
    );
    for e in idl["events"].as_array().expect("events") {
        let name = e["name"].as_str().expect("name");
        assert!(types.contains_key(name), "event {name} has its type");
    }
    let view = idl["instructions"]
        .as_array()
        .expect("instructions")
        .iter()
        .find(|i| i["name"] == "health_view")
        .expect("health_view");
    assert_eq!(view["returns"]["defined"]["name"], "HealthView");
    assert!(types.contains_key("HealthView") && types.contains_key("PairPlan"));
}
