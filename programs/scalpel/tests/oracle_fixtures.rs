//! The oracle adapters against every real Pyth account in `tests/fixtures/pyth/` (origins in its README).
//!
//! Every fixture file must be listed in [`CASES`] (see `every_fixture_file_has_a_case`), with the
//! numbers read out of it once and hardcoded here, so a decoder change that reads a field from
//! the wrong offset, or a new fixture nobody looked at, fails this test.

use anchor_lang::prelude::Pubkey;
use base64::Engine;
use proptest::prelude::*;
use scalpel::constants::{PYTH_LEGACY_DEVNET, PYTH_LEGACY_MAINNET, PYTH_RECEIVER};
use scalpel::errors::ScalpelError;
use scalpel::math::I80F48;
use scalpel::oracle::{
    self, pyth_pull, OracleConfig, OracleKind, OraclePrice, RawDetail, RawPrice,
};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const LEGACY: OracleKind = OracleKind::PythLegacy;
const PULL: OracleKind = OracleKind::PythPull;

/// Market defaults used for "accepted" cases.
const MAX_AGE: u32 = 60;
const MAX_CONF_BPS: u16 = 200;
/// Seconds after publish time at which accepted cases are read.
const FRESH: i64 = 5;

// Pyth pull feed ids (hex of the 32 bytes), as read out of the files.
const FEED_SOL: &str = "ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d";
const FEED_USDC: &str = "eaa020c61cc479712813461ce153894a96a6c00b21ed0cfc2798d1f9a9e9c94a";
const FEED_BONK: &str = "72b021217ca3fe68922a19aaf990109cb9d84e9ad004b4d2025ad6f529314419";
const FEED_MSOL: &str = "c2289a6a43d2ce91c6f55caec370f4acc38a2ed477f58813334c6d03749ff2a4";
const FEED_BTC: &str = "c9d8b075a5c69303365ae23633d4e085199bf5c520a3b90fed1322a0342ffc33";
const FEED_ETH: &str = "ff61491a931112ddf1bd8147cd1b641375f79f5825126d665480874634fd0ace";

/// What a fixture must decode to.
#[derive(Clone, Copy, Debug)]
enum Want {
    /// A usable price: accepted at `publish_time + FRESH` with `MAX_AGE` and `MAX_CONF_BPS`.
    Accept {
        price: i64,
        conf: u64,
        expo: i32,
        publish_time: i64,
        /// Legacy: aggregate status byte. Pull: `None`.
        legacy_status: Option<u8>,
        /// Pull: feed id hex. Legacy: `None`.
        feed: Option<&'static str>,
        /// Token decimals used to check the normalized price.
        decimals: u8,
        /// Human price, USD per whole token.
        usd_per_token: f64,
    },
    /// A Partial-verification `PriceUpdateV2`: never usable.
    Partial {
        sigs: u8,
        price: i64,
        conf: u64,
        expo: i32,
        publish_time: i64,
        feed: &'static str,
    },
    /// A legacy product account (not a price account).
    Product,
    /// A legacy price account whose publish time is 0.
    ZeroTimestamp { price: i64, expo: i32 },
    /// The dump's owner field does not own this layout.
    WrongOwner,
}

#[derive(Clone, Copy, Debug)]
struct Case {
    /// Path under the fixtures folder.
    file: &'static str,
    kind: OracleKind,
    /// Real owner of the account (for a JSON dump: what its `owner` field must say).
    owner: Pubkey,
    want: Want,
}

#[allow(clippy::too_many_arguments)]
const fn accept_pull(
    file: &'static str,
    feed: &'static str,
    price: i64,
    conf: u64,
    expo: i32,
    publish_time: i64,
    decimals: u8,
    usd_per_token: f64,
) -> Case {
    Case {
        file,
        kind: PULL,
        owner: PYTH_RECEIVER,
        want: Want::Accept {
            price,
            conf,
            expo,
            publish_time,
            legacy_status: None,
            feed: Some(feed),
            decimals,
            usd_per_token,
        },
    }
}

#[allow(clippy::too_many_arguments)]
const fn accept_legacy(
    file: &'static str,
    owner: Pubkey,
    status: u8,
    price: i64,
    conf: u64,
    expo: i32,
    publish_time: i64,
    decimals: u8,
    usd_per_token: f64,
) -> Case {
    Case {
        file,
        kind: LEGACY,
        owner,
        want: Want::Accept {
            price,
            conf,
            expo,
            publish_time,
            legacy_status: Some(status),
            feed: None,
            decimals,
            usd_per_token,
        },
    }
}

const fn partial(
    file: &'static str,
    feed: &'static str,
    sigs: u8,
    price: i64,
    conf: u64,
    expo: i32,
    publish_time: i64,
) -> Case {
    Case {
        file,
        kind: PULL,
        owner: PYTH_RECEIVER,
        want: Want::Partial {
            sigs,
            price,
            conf,
            expo,
            publish_time,
            feed,
        },
    }
}

/// Every fixture, with the numbers read out of it.
const CASES: &[Case] = &[
    // ---- PriceUpdateV2, Full verification ----
    accept_pull(
        "drift-protocol-v2/pythPullOracleData_ts_L5_PYTH_ORACLE_TWO_DATA.bin",
        FEED_SOL,
        13_467_731_930,
        13_012_302,
        -8,
        1_718_727_936,
        9,
        134.677_319_30,
    ),
    accept_pull(
        "drift-protocol-v2/tests_oracle_L68_pyth_pull_1m.bin",
        FEED_BONK,
        345_526,
        517,
        -10,
        1_717_074_117,
        5,
        0.000_034_552_6,
    ),
    accept_pull(
        "mango-v4/7UVimffxr9ow1uXYxsr4LHAcV58mLzhmwaeKvJ1pjLiE.bin",
        FEED_SOL,
        14_061_593_700,
        13_793_699,
        -8,
        1_720_533_480,
        9,
        140.615_937_00,
    ),
    accept_pull(
        "marginfi-v2/pyth_push_sol_price.bin",
        FEED_SOL,
        15_679_769_099,
        16_197_271,
        -8,
        1_721_133_402,
        9,
        156.797_690_99,
    ),
    accept_pull(
        "marginfi-v2/pyth_push_usdc_price.bin",
        FEED_USDC,
        100_004_997,
        67_956,
        -8,
        1_747_165_253,
        6,
        1.000_049_97,
    ),
    accept_pull(
        "marginfi-v2/sol_pyth_price_feed.json",
        FEED_SOL,
        21_568_137_069,
        20_134_469,
        -8,
        1_735_984_087,
        9,
        215.681_370_69,
    ),
    accept_pull(
        "solend-spl/oracles__5CKzb9j4ChgLUt8Gfm5CNGLN6khXKiqMbnGAW4cgXgxK.bin",
        FEED_MSOL,
        16_197_302_717,
        57_359_974,
        -8,
        1_719_290_233,
        9,
        161.973_027_17,
    ),
    accept_pull(
        "solend-spl/oracles__7UVimffxr9ow1uXYxsr4LHAcV58mLzhmwaeKvJ1pjLiE.bin",
        FEED_SOL,
        13_542_669_300,
        11_735_744,
        -8,
        1_719_289_382,
        9,
        135.426_693_00,
    ),
    // ---- PriceUpdateV2, Partial verification: always rejected ----
    partial(
        "drift-protocol-v2/tests_liquidation_L8969_test.bin",
        FEED_USDC,
        3,
        100_000_132,
        120_032,
        -8,
        1_734_648_615,
    ),
    partial(
        "drift-protocol-v2/tests_liquidation_L8980_test.bin",
        FEED_SOL,
        2,
        19_618_693_617,
        22_929_999,
        -8,
        1_734_648_611,
    ),
    partial(
        "drift-protocol-v2/tests_liquidation_L9120_test.bin",
        FEED_USDC,
        2,
        99_999_715,
        95_301,
        -8,
        1_734_721_494,
    ),
    partial(
        "drift-protocol-v2/tests_liquidation_L9131_test.bin",
        FEED_SOL,
        2,
        19_099_718_744,
        15_025_544,
        -8,
        1_734_721_506,
    ),
    partial(
        "drift-protocol-v2/tests_liquidation_L9142_test.bin",
        FEED_BTC,
        2,
        9_675_964_978_194,
        13_024_736_215,
        -8,
        1_734_721_494,
    ),
    partial(
        "drift-protocol-v2/tests_orders_L3471_swift_failure.bin",
        FEED_ETH,
        2,
        240_864_500_000,
        139_993_250,
        -8,
        1_750_772_057,
    ),
    // ---- Legacy price accounts ----
    accept_legacy(
        "drift-protocol-v2/tests_position_L2213_update_amm_near_boundary.bin",
        PYTH_LEGACY_MAINNET,
        1,
        145_975,
        219,
        -10,
        1_702_120_657,
        5,
        0.000_014_597_5,
    ),
    accept_legacy(
        "drift-protocol-v2/tests_position_L2272_update_amm_near_boundary2.bin",
        PYTH_LEGACY_MAINNET,
        1,
        143_948,
        219,
        -10,
        1_702_130_280,
        5,
        0.000_014_394_8,
    ),
    accept_legacy(
        "mango-v4/Gnt27xtC473ZT2Mw5u8wZ68Z3gULkSTb5DuxJy7eJotD.bin",
        PYTH_LEGACY_MAINNET,
        1,
        100_000_750,
        24_249,
        -8,
        1_701_981_042,
        6,
        1.000_007_50,
    ),
    accept_legacy(
        "solend-spl/program__992moaMQKs32GKZ9dxi8keyM2bUmbrwBZpK4p2K6X5Vs.bin",
        PYTH_LEGACY_DEVNET,
        1,
        27_293_073,
        83_372,
        -8,
        1_669_049_331,
        6,
        0.272_930_73,
    ),
    // Status 0 (unknown), not Trading: the previous price (same mantissa here) and the previous
    // timestamp 1722852532, not the aggregate timestamp 1730534860.
    accept_legacy(
        "marginfi-v2/sol_pyth_oracle.orig_owner_FsJ3.json",
        PYTH_LEGACY_MAINNET,
        0,
        11_923_378_000,
        16_676_631,
        -8,
        1_722_852_532,
        9,
        119.233_780_00,
    ),
    // Same bytes; the dump's owner field was rewritten upstream to the receiver program.
    Case {
        file: "marginfi-v2/sol_pyth_oracle.json",
        kind: LEGACY,
        owner: PYTH_RECEIVER,
        want: Want::WrongOwner,
    },
    Case {
        file: "mango-v4/J83w4HKfqxwcq3BEMMkPFSppX3gqekLyLJBexebFVkix.bin",
        kind: LEGACY,
        owner: PYTH_LEGACY_DEVNET,
        want: Want::ZeroTimestamp {
            price: 32_112_500_000,
            expo: -9,
        },
    },
    Case {
        file: "solend-spl/program__J83w4HKfqxwcq3BEMMkPFSppX3gqekLyLJBexebFVkix.bin",
        kind: LEGACY,
        owner: PYTH_LEGACY_DEVNET,
        want: Want::ZeroTimestamp {
            price: 32_112_500_000,
            expo: -9,
        },
    },
    // ---- Legacy product accounts ----
    Case {
        file: "solend-spl/program__3Mnn2fX6rQyUsyELYms1sBJyChWofzSNRoqYzvgMVz5E.bin",
        kind: LEGACY,
        owner: PYTH_LEGACY_DEVNET,
        want: Want::Product,
    },
    Case {
        file: "solend-spl/program__6MEwdxe4g1NeAF9u6KDG14anJpFsVEa2cvr5H6iriFZ8.bin",
        kind: LEGACY,
        owner: PYTH_LEGACY_DEVNET,
        want: Want::Product,
    },
];

/// Files in the fixtures folder that are not account data.
const NOT_FIXTURES: &[&str] = &[
    "LICENSE",
    "README.md",
    "index.json",
    "SHA256SUMS",
    "program__README.md",
];

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/pyth")
}

/// Account data and, for a JSON dump, its owner field.
#[derive(Clone, Debug)]
struct Loaded {
    data: Vec<u8>,
    json_owner: Option<Pubkey>,
}

fn load(file: &str) -> Loaded {
    let path = fixtures_dir().join(file);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    if !file.ends_with(".json") {
        return Loaded {
            data: bytes,
            json_owner: None,
        };
    }
    let v: serde_json::Value = serde_json::from_slice(&bytes).expect("fixture JSON");
    let account = &v["account"];
    assert_eq!(account["data"][1], "base64", "{file}: data encoding");
    let b64 = account["data"][0].as_str().expect("data[0] is a string");
    let data = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64 data");
    let owner: Pubkey = account["owner"]
        .as_str()
        .expect("owner is a string")
        .parse()
        .expect("owner is a pubkey");
    Loaded {
        data,
        json_owner: Some(owner),
    }
}

/// All fixtures, loaded once (for the property tests).
fn all_loaded() -> &'static Vec<(Case, Loaded)> {
    static ALL: OnceLock<Vec<(Case, Loaded)>> = OnceLock::new();
    ALL.get_or_init(|| CASES.iter().map(|c| (*c, load(c.file))).collect())
}

/// The owner a case is read with: the dump's owner field for JSON, the real owner otherwise.
fn owner_of(case: &Case, loaded: &Loaded) -> Pubkey {
    match loaded.json_owner {
        Some(o) => {
            assert_eq!(o, case.owner, "{}: owner field of the dump", case.file);
            o
        }
        None => case.owner,
    }
}

fn hex32(s: &str) -> [u8; 32] {
    assert_eq!(s.len(), 64);
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex");
    }
    out
}

/// A copy of `data` starting at an 8-byte aligned address.
fn aligned(data: &[u8]) -> Vec<u64> {
    let mut words = vec![0u64; data.len().div_ceil(8) + 1];
    let bytes: &mut [u8] = bytemuck_bytes_mut(&mut words);
    bytes[..data.len()].copy_from_slice(data);
    words
}

/// A buffer holding one byte then `data`, so `&buf[1..]` is never 8-byte aligned.
fn misaligned(data: &[u8]) -> Vec<u64> {
    let mut words = vec![0u64; (data.len() + 1).div_ceil(8) + 1];
    let bytes: &mut [u8] = bytemuck_bytes_mut(&mut words);
    bytes[0] = 0xAA;
    bytes[1..=data.len()].copy_from_slice(data);
    words
}

fn bytemuck_bytes_mut(words: &mut [u64]) -> &mut [u8] {
    bytemuck::cast_slice_mut(words)
}

fn bytes_of(words: &[u64]) -> &[u8] {
    bytemuck::cast_slice(words)
}

fn cfg(kind: OracleKind, feed: [u8; 32], decimals: u8) -> OracleConfig {
    OracleConfig {
        kind,
        feed_id: feed,
        decimals,
        max_conf_bps: MAX_CONF_BPS,
        max_future_secs: MAX_AGE,
        with_ema: true,
    }
}

fn feed_of(raw: &RawPrice) -> [u8; 32] {
    match raw.detail {
        RawDetail::Pull { feed_id, .. } => feed_id,
        RawDetail::Legacy { .. } => [0u8; 32],
    }
}

/// `got` (USD per native unit) is `usd_per_token / 10^decimals` within a few I80F48 ulps or
/// one part in 10^12.
fn assert_normalized(file: &str, got: I80F48, usd_per_token: f64, decimals: u8) {
    let want = usd_per_token / 10f64.powi(decimals as i32);
    let g = got.to_num::<f64>();
    let ulp = 2f64.powi(-48);
    let tol = (4.0 * ulp).max(want * 1e-12);
    assert!(
        (g - want).abs() <= tol,
        "{file}: normalized price {g:e} != {want:e} (decimals {decimals})"
    );
}

// ---------------------------------------------------------------------------------------------
// Coverage
// ---------------------------------------------------------------------------------------------

fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read_dir {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry"))
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        if e.file_type().expect("file type").is_dir() {
            walk(&e.path(), &path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn every_fixture_file_has_a_case() {
    let mut files = Vec::new();
    walk(&fixtures_dir(), "", &mut files);
    let listed: BTreeSet<&str> = CASES.iter().map(|c| c.file).collect();
    assert_eq!(listed.len(), CASES.len(), "a fixture is listed twice");
    let mut uncovered = Vec::new();
    let mut seen = BTreeSet::new();
    for f in &files {
        let name = f.rsplit('/').next().unwrap_or(f);
        if NOT_FIXTURES.contains(&name) || !(f.ends_with(".bin") || f.ends_with(".json")) {
            continue;
        }
        if listed.contains(f.as_str()) {
            seen.insert(f.as_str());
        } else {
            uncovered.push(f.clone());
        }
    }
    assert!(
        uncovered.is_empty(),
        "fixture files without a case in CASES (add one): {uncovered:?}"
    );
    let missing: Vec<_> = listed.difference(&seen).collect();
    assert!(missing.is_empty(), "cases without a file: {missing:?}");
    assert_eq!(seen.len(), 24, "fixture count changed: update CASES");
}

// ---------------------------------------------------------------------------------------------
// Per-fixture verdicts
// ---------------------------------------------------------------------------------------------

#[test]
fn every_fixture_decodes_to_its_numbers_and_verdict() {
    for (case, loaded) in all_loaded() {
        let file = case.file;
        let owner = owner_of(case, loaded);
        let data = &loaded.data;
        match case.want {
            Want::Accept {
                price,
                conf,
                expo,
                publish_time,
                legacy_status,
                feed,
                decimals,
                usd_per_token,
            } => {
                let raw = oracle::decode(case.kind, &owner, data)
                    .unwrap_or_else(|e| panic!("{file}: decode: {e:?}"));
                assert_eq!(
                    (raw.price, raw.conf, raw.expo, raw.publish_time),
                    (price, conf, expo, publish_time),
                    "{file}: raw numbers"
                );
                match (raw.detail, legacy_status, feed) {
                    (
                        RawDetail::Legacy {
                            status,
                            used_previous,
                        },
                        Some(want_status),
                        None,
                    ) => {
                        assert_eq!(status, want_status, "{file}: status");
                        assert_eq!(used_previous, want_status != 1, "{file}: used_previous");
                    }
                    (
                        RawDetail::Pull {
                            partial_signatures,
                            feed_id,
                            posted_slot,
                        },
                        None,
                        Some(want_feed),
                    ) => {
                        assert_eq!(partial_signatures, None, "{file}: Full");
                        assert_eq!(feed_id, hex32(want_feed), "{file}: feed id");
                        assert!(posted_slot > 0, "{file}: posted slot");
                    }
                    (d, _, _) => panic!("{file}: unexpected detail {d:?}"),
                }
                let feed_id = feed_of(&raw);
                let now = publish_time + FRESH;
                let p = oracle::read_price(
                    &cfg(case.kind, feed_id, decimals),
                    &owner,
                    data,
                    now,
                    MAX_AGE,
                )
                .unwrap_or_else(|e| panic!("{file}: read_price: {e:?}"));
                assert_eq!(p.publish_time, publish_time, "{file}");
                assert_normalized(file, p.price(), usd_per_token, decimals);
                assert_normalized(
                    file,
                    p.conf(),
                    usd_per_token * conf as f64 / price as f64,
                    decimals,
                );
                // Per whole token (decimals 0), as the CLI shows it.
                let whole =
                    oracle::read_price(&cfg(case.kind, feed_id, 0), &owner, data, now, MAX_AGE)
                        .unwrap_or_else(|e| panic!("{file}: read_price decimals 0: {e:?}"));
                assert_normalized(file, whole.price(), usd_per_token, 0);
            }
            Want::Partial {
                sigs,
                price,
                conf,
                expo,
                publish_time,
                feed,
            } => {
                assert_eq!(
                    oracle::decode(PULL, &owner, data),
                    Err(ScalpelError::OracleNotFullyVerified),
                    "{file}"
                );
                let feed_id = hex32(feed);
                for now in [publish_time, publish_time + FRESH] {
                    assert_eq!(
                        oracle::read_price(&cfg(PULL, feed_id, 9), &owner, data, now, MAX_AGE),
                        Err(ScalpelError::OracleNotFullyVerified),
                        "{file}"
                    );
                }
                // What the account says, for inspection tools.
                let raw = pyth_pull::decode_any_verification(&owner, data)
                    .unwrap_or_else(|e| panic!("{file}: decode_any_verification: {e:?}"));
                assert_eq!(
                    (raw.price, raw.conf, raw.expo, raw.publish_time),
                    (price, conf, expo, publish_time),
                    "{file}: raw numbers"
                );
                match raw.detail {
                    RawDetail::Pull {
                        partial_signatures,
                        feed_id: got,
                        ..
                    } => {
                        assert_eq!(partial_signatures, Some(sigs), "{file}: signatures");
                        assert_eq!(got, feed_id, "{file}: feed id");
                    }
                    d => panic!("{file}: unexpected detail {d:?}"),
                }
            }
            Want::Product => {
                assert_eq!(&data[..4], &0xa1b2_c3d4u32.to_le_bytes(), "{file}: magic");
                assert_eq!(&data[8..12], &2u32.to_le_bytes(), "{file}: product type");
                for o in [PYTH_LEGACY_MAINNET, PYTH_LEGACY_DEVNET] {
                    assert_eq!(
                        oracle::decode(LEGACY, &o, data),
                        Err(ScalpelError::OracleInvalidAccount),
                        "{file}"
                    );
                    assert_eq!(
                        oracle::read_price(&cfg(LEGACY, [0; 32], 9), &o, data, 1_700_000_000, 60),
                        Err(ScalpelError::OracleInvalidAccount),
                        "{file}"
                    );
                }
            }
            Want::ZeroTimestamp { price, expo } => {
                let raw = oracle::decode(LEGACY, &owner, data)
                    .unwrap_or_else(|e| panic!("{file}: decode: {e:?}"));
                assert_eq!(
                    (raw.price, raw.expo, raw.publish_time),
                    (price, expo, 0),
                    "{file}"
                );
                assert_eq!(
                    raw.detail,
                    RawDetail::Legacy {
                        status: 1,
                        used_previous: false
                    }
                );
                // Relative to its own publish time (0), a recent clock, the longest age a
                // market may configure: always stale.
                for now in [FRESH, 1_640_000_000, 1_750_000_000] {
                    for max_age in [MAX_AGE, 86_400] {
                        assert_eq!(
                            oracle::read_price(
                                &cfg(LEGACY, [0; 32], 9),
                                &owner,
                                data,
                                now,
                                max_age
                            ),
                            Err(ScalpelError::OracleStale),
                            "{file} at {now}"
                        );
                    }
                }
            }
            Want::WrongOwner => {
                assert_eq!(
                    oracle::decode(case.kind, &owner, data),
                    Err(ScalpelError::OracleWrongOwner),
                    "{file}"
                );
                assert_eq!(
                    oracle::read_price(&cfg(case.kind, [0; 32], 9), &owner, data, 0, MAX_AGE),
                    Err(ScalpelError::OracleWrongOwner),
                    "{file}"
                );
                // Its owner is the receiver, but the bytes are no PriceUpdateV2.
                assert_eq!(
                    oracle::decode(PULL, &owner, data),
                    Err(ScalpelError::OracleInvalidAccount),
                    "{file}"
                );
            }
        }
    }
}

/// The JSON dump whose owner was rewritten holds the same bytes as the original one: only the
/// owner makes the difference.
#[test]
fn rewritten_owner_dump_has_the_original_bytes() {
    let rewritten = load("marginfi-v2/sol_pyth_oracle.json");
    let orig = load("marginfi-v2/sol_pyth_oracle.orig_owner_FsJ3.json");
    assert_eq!(rewritten.data, orig.data);
    assert_eq!(rewritten.json_owner, Some(PYTH_RECEIVER));
    assert_eq!(orig.json_owner, Some(PYTH_LEGACY_MAINNET));
}

// ---------------------------------------------------------------------------------------------
// Targeted checks on the real accounts
// ---------------------------------------------------------------------------------------------

/// Accepted cases: (case, data, owner, raw, decimals).
fn accepted() -> Vec<(&'static Case, &'static [u8], Pubkey, RawPrice, u8)> {
    all_loaded()
        .iter()
        .filter_map(|(case, loaded)| match case.want {
            Want::Accept { decimals, .. } => {
                let owner = owner_of(case, loaded);
                let raw = oracle::decode(case.kind, &owner, &loaded.data).ok()?;
                Some((case, loaded.data.as_slice(), owner, raw, decimals))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn wrong_owner_is_rejected() {
    let random = Pubkey::new_from_array([7u8; 32]);
    let mut n_pull = 0;
    let mut n_legacy = 0;
    for (case, loaded) in all_loaded() {
        let data = &loaded.data;
        let feed = [0u8; 32];
        match (case.kind, case.want) {
            (PULL, _) => {
                n_pull += 1;
                for o in [PYTH_LEGACY_MAINNET, PYTH_LEGACY_DEVNET, random] {
                    assert_eq!(
                        oracle::decode(PULL, &o, data),
                        Err(ScalpelError::OracleWrongOwner),
                        "{}",
                        case.file
                    );
                    assert_eq!(
                        pyth_pull::decode_any_verification(&o, data),
                        Err(ScalpelError::OracleWrongOwner),
                        "{}",
                        case.file
                    );
                }
                // The right owner but read as the other kind: not a legacy account.
                assert_eq!(
                    oracle::decode(LEGACY, &PYTH_LEGACY_MAINNET, data),
                    Err(ScalpelError::OracleInvalidAccount),
                    "{}",
                    case.file
                );
            }
            (LEGACY, _) => {
                n_legacy += 1;
                for o in [PYTH_RECEIVER, random] {
                    assert_eq!(
                        oracle::decode(LEGACY, &o, data),
                        Err(ScalpelError::OracleWrongOwner),
                        "{}",
                        case.file
                    );
                    assert_eq!(
                        oracle::read_price(&cfg(LEGACY, feed, 9), &o, data, 0, MAX_AGE),
                        Err(ScalpelError::OracleWrongOwner),
                        "{}",
                        case.file
                    );
                }
                assert_eq!(
                    oracle::decode(PULL, &PYTH_RECEIVER, data),
                    Err(ScalpelError::OracleInvalidAccount),
                    "{}",
                    case.file
                );
            }
        }
    }
    assert_eq!((n_pull, n_legacy), (14, 10));
}

#[test]
fn legacy_accepts_mainnet_and_devnet_owner() {
    for (case, data, _, raw, decimals) in accepted() {
        if case.kind != LEGACY {
            continue;
        }
        for o in [PYTH_LEGACY_MAINNET, PYTH_LEGACY_DEVNET] {
            assert_eq!(oracle::decode(LEGACY, &o, data), Ok(raw), "{}", case.file);
            assert!(oracle::read_price(
                &cfg(LEGACY, [0; 32], decimals),
                &o,
                data,
                raw.publish_time + FRESH,
                MAX_AGE
            )
            .is_ok());
        }
    }
}

#[test]
fn wrong_feed_id_is_rejected() {
    let mut n = 0;
    for (case, data, owner, raw, decimals) in accepted() {
        let now = raw.publish_time + FRESH;
        match raw.detail {
            RawDetail::Pull { feed_id, .. } => {
                n += 1;
                let mut other = feed_id;
                other[31] ^= 1;
                for wrong in [other, [0u8; 32], hex32(FEED_ETH)] {
                    assert_eq!(
                        oracle::read_price(&cfg(PULL, wrong, decimals), &owner, data, now, MAX_AGE),
                        Err(ScalpelError::OracleFeedMismatch),
                        "{}",
                        case.file
                    );
                }
            }
            RawDetail::Legacy { .. } => {
                // Legacy accounts carry no feed id: the configured one is ignored.
                assert!(oracle::read_price(
                    &cfg(LEGACY, [0xEE; 32], decimals),
                    &owner,
                    data,
                    now,
                    MAX_AGE
                )
                .is_ok());
            }
        }
    }
    assert_eq!(n, 8);
    // A USDC update for a SOL market, named explicitly.
    let usdc = load("marginfi-v2/pyth_push_usdc_price.bin");
    assert_eq!(
        oracle::read_price(
            &cfg(PULL, hex32(FEED_SOL), 9),
            &PYTH_RECEIVER,
            &usdc.data,
            1_747_165_253 + FRESH,
            MAX_AGE
        ),
        Err(ScalpelError::OracleFeedMismatch)
    );
}

#[test]
fn too_wide_confidence_is_rejected_at_the_exact_bound() {
    for (case, data, owner, raw, decimals) in accepted() {
        let now = raw.publish_time + FRESH;
        let feed = feed_of(&raw);
        let scaled = raw.conf as u128 * 10_000;
        let price = raw.price as u128;
        // Smallest max_conf_bps that accepts: ceil(conf * 10^4 / price).
        let min_ok = scaled.div_ceil(price);
        let min_ok = u16::try_from(min_ok).expect("conf under 6.5x price");
        assert!(min_ok >= 1, "{}", case.file);
        let with = |bps: u16| {
            let mut c = cfg(case.kind, feed, decimals);
            c.max_conf_bps = bps;
            oracle::read_price(&c, &owner, data, now, MAX_AGE)
        };
        assert!(with(min_ok).is_ok(), "{}", case.file);
        assert_eq!(
            with(min_ok - 1),
            Err(ScalpelError::OracleConfidenceTooWide),
            "{}",
            case.file
        );
        assert_eq!(
            with(0),
            Err(ScalpelError::OracleConfidenceTooWide),
            "{}",
            case.file
        );
    }
    // Worked numbers: USDC legacy, conf 24249 / price 100000750 = 2.42 bps.
    let usdc = load("mango-v4/Gnt27xtC473ZT2Mw5u8wZ68Z3gULkSTb5DuxJy7eJotD.bin");
    let mut c = cfg(LEGACY, [0; 32], 6);
    let now = 1_701_981_042 + FRESH;
    c.max_conf_bps = 2;
    assert_eq!(
        oracle::read_price(&c, &PYTH_LEGACY_MAINNET, &usdc.data, now, MAX_AGE),
        Err(ScalpelError::OracleConfidenceTooWide)
    );
    c.max_conf_bps = 3;
    assert!(oracle::read_price(&c, &PYTH_LEGACY_MAINNET, &usdc.data, now, MAX_AGE).is_ok());
}

#[test]
fn age_and_future_bounds() {
    for (case, data, owner, raw, decimals) in accepted() {
        let pt = raw.publish_time;
        let c = cfg(case.kind, feed_of(&raw), decimals);
        let read = |now: i64, max_age: u32| oracle::read_price(&c, &owner, data, now, max_age);
        let max_age = MAX_AGE as i64;
        assert!(read(pt, MAX_AGE).is_ok(), "{}", case.file);
        assert!(read(pt + max_age, MAX_AGE).is_ok(), "{}", case.file);
        assert_eq!(
            read(pt + max_age + 1, MAX_AGE),
            Err(ScalpelError::OracleStale),
            "{}",
            case.file
        );
        // The longer liquidation age still reads it.
        assert!(read(pt + max_age + 1, 3_600).is_ok(), "{}", case.file);
        assert_eq!(read(i64::MAX, MAX_AGE), Err(ScalpelError::OracleStale));
        // Future publish times: tolerated up to max_future_secs.
        assert!(read(pt - max_age, MAX_AGE).is_ok(), "{}", case.file);
        assert_eq!(
            read(pt - max_age - 1, MAX_AGE),
            Err(ScalpelError::OracleFutureTimestamp),
            "{}",
            case.file
        );
        assert_eq!(
            read(i64::MIN, MAX_AGE),
            Err(ScalpelError::OracleFutureTimestamp)
        );
    }
}

#[test]
fn non_trading_legacy_uses_the_previous_price_and_timestamp() {
    let file = "marginfi-v2/sol_pyth_oracle.orig_owner_FsJ3.json";
    let l = load(file);
    let owner = l.json_owner.expect("JSON dump");
    let raw = oracle::decode(LEGACY, &owner, &l.data).expect("decodes");
    assert_eq!(
        raw.detail,
        RawDetail::Legacy {
            status: 0,
            used_previous: true
        }
    );
    // The bytes: aggregate timestamp at offset 96, previous price/conf/timestamp at 184..208.
    let i64_at = |o: usize| i64::from_le_bytes(l.data[o..o + 8].try_into().expect("8 bytes"));
    assert_eq!(i64_at(96), 1_730_534_860);
    assert_eq!(
        (i64_at(184), i64_at(192) as u64, i64_at(200)),
        (11_923_378_000, 16_676_631, 1_722_852_532)
    );
    assert_eq!(
        (raw.price, raw.conf, raw.publish_time),
        (11_923_378_000, 16_676_631, 1_722_852_532)
    );
    // The staleness check judges the previous timestamp: fresh just after it, stale at the
    // aggregate timestamp the account also carries.
    let c = cfg(LEGACY, [0; 32], 9);
    let p: OraclePrice = oracle::read_price(&c, &owner, &l.data, 1_722_852_532 + FRESH, MAX_AGE)
        .expect("fresh previous price");
    assert_eq!(p.publish_time, 1_722_852_532);
    assert_eq!(
        oracle::read_price(&c, &owner, &l.data, 1_730_534_860 + FRESH, MAX_AGE),
        Err(ScalpelError::OracleStale)
    );
    assert_eq!(
        oracle::read_price(&c, &owner, &l.data, 1_730_534_860 + FRESH, 86_400),
        Err(ScalpelError::OracleStale)
    );
}

// ---------------------------------------------------------------------------------------------
// Damaged data
// ---------------------------------------------------------------------------------------------

/// The program reads `PriceUpdateV2` at fixed offsets; on every fixture, whole and truncated at
/// every length, that reader agrees with pyth-solana-receiver-sdk's deserializer.
#[test]
fn pull_reader_agrees_with_the_sdk_on_every_fixture() {
    for (case, loaded) in all_loaded() {
        let data = &loaded.data;
        for len in 0..=data.len() {
            for owner in [case.owner, PYTH_RECEIVER] {
                assert_eq!(
                    pyth_pull::decode_any_verification(&owner, &data[..len]),
                    pyth_pull::decode_with_sdk(&owner, &data[..len]),
                    "{} truncated to {len} bytes",
                    case.file
                );
            }
        }
    }
}

#[test]
fn truncated_data_is_invalid() {
    for (case, loaded) in all_loaded() {
        let owner = case.owner;
        let data = &loaded.data;
        // Bytes the format needs: a Full PriceUpdateV2 is 133 bytes (the 134-byte account has
        // one spare byte), a Partial one 134; a legacy price account 3312.
        let need = match case.want {
            Want::Partial { .. } => 134,
            _ if case.kind == PULL => 133,
            _ => 3312,
        };
        let kind = case.kind;
        let full = oracle::decode(kind, &owner, data);
        assert_eq!(
            oracle::decode(kind, &owner, &data[..need]),
            full,
            "{}",
            case.file
        );
        for len in 0..need {
            let got = oracle::decode(kind, &owner, &data[..len]);
            let want = if case.want.is_wrong_owner() {
                Err(ScalpelError::OracleWrongOwner)
            } else {
                Err(ScalpelError::OracleInvalidAccount)
            };
            assert_eq!(got, want, "{} truncated to {len}", case.file);
            if kind == PULL {
                assert_eq!(
                    pyth_pull::decode_any_verification(&owner, &data[..len]),
                    want,
                    "{} truncated to {len}",
                    case.file
                );
            }
        }
        // Trailing bytes beyond the layout change nothing.
        let mut longer = data.clone();
        longer.extend_from_slice(&[0x5A; 100]);
        assert_eq!(oracle::decode(kind, &owner, &longer), full, "{}", case.file);
    }
}

impl Want {
    fn is_wrong_owner(&self) -> bool {
        matches!(self, Want::WrongOwner)
    }
}

/// Deterministic pseudo-random bytes (xorshift64*).
fn garbage(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

#[test]
fn garbage_bytes_are_invalid() {
    let sizes = [
        0usize, 1, 8, 9, 41, 133, 134, 135, 512, 3311, 3312, 3313, 4096,
    ];
    for (i, &len) in sizes.iter().enumerate() {
        for seed in 0..8u64 {
            let g = garbage(seed * 31 + i as u64, len);
            for bytes in [g.clone(), vec![0u8; len], vec![0xFF; len]] {
                for (kind, owner) in [
                    (LEGACY, PYTH_LEGACY_MAINNET),
                    (LEGACY, PYTH_LEGACY_DEVNET),
                    (PULL, PYTH_RECEIVER),
                ] {
                    assert_eq!(
                        oracle::decode(kind, &owner, &bytes),
                        Err(ScalpelError::OracleInvalidAccount),
                        "len {len}"
                    );
                }
            }
        }
    }
    // The right header over garbage: legacy magic/version/type but invalid enum bytes, and the
    // PriceUpdateV2 discriminator followed by an invalid verification variant.
    let mut legacy = garbage(99, 3312);
    legacy[..16].copy_from_slice(&[
        0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 0, 0, 3, 0, 0, 0, 0xf0, 0x0c, 0, 0,
    ]);
    legacy[16] = 7; // no such price type
    assert_eq!(
        oracle::decode(LEGACY, &PYTH_LEGACY_MAINNET, &legacy),
        Err(ScalpelError::OracleInvalidAccount)
    );
    let mut pull = garbage(98, 134);
    pull[..8].copy_from_slice(&[0x22, 0xf1, 0x23, 0x63, 0x9d, 0x7e, 0xf4, 0xcd]);
    pull[40] = 9; // no such VerificationLevel
    assert_eq!(
        oracle::decode(PULL, &PYTH_RECEIVER, &pull),
        Err(ScalpelError::OracleInvalidAccount)
    );
}

#[test]
fn misaligned_buffer_reads_like_an_aligned_one() {
    for (case, loaded) in all_loaded() {
        let owner = owner_of(case, loaded);
        let data = &loaded.data;
        let a = aligned(data);
        let a = &bytes_of(&a)[..data.len()];
        let m = misaligned(data);
        let m = &bytes_of(&m)[1..=data.len()];
        assert_eq!(a.as_ptr() as usize % 8, 0);
        assert_eq!(m.as_ptr() as usize % 8, 1);
        assert_eq!(a, m);
        let d_a = oracle::decode(case.kind, &owner, a);
        let d_m = oracle::decode(case.kind, &owner, m);
        assert_eq!(d_a, d_m, "{}", case.file);
        assert_eq!(
            d_a,
            oracle::decode(case.kind, &owner, data),
            "{}",
            case.file
        );
        if let Ok(raw) = d_a {
            let c = cfg(case.kind, feed_of(&raw), 9);
            let now = raw.publish_time + FRESH;
            assert_eq!(
                oracle::read_price(&c, &owner, a, now, MAX_AGE),
                oracle::read_price(&c, &owner, m, now, MAX_AGE),
                "{}",
                case.file
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Property tests: nothing panics
// ---------------------------------------------------------------------------------------------

fn owners() -> [Pubkey; 4] {
    [
        PYTH_LEGACY_MAINNET,
        PYTH_LEGACY_DEVNET,
        PYTH_RECEIVER,
        Pubkey::new_from_array([3u8; 32]),
    ]
}

/// Runs every entry point on `data` under both kinds and all owners; returns nothing, the
/// property is that it returns at all.
fn exercise(data: &[u8], feed: [u8; 32], decimals: u8, max_conf_bps: u16, now: i64, age: u32) {
    for kind in [LEGACY, PULL] {
        for owner in owners() {
            let c = OracleConfig {
                kind,
                feed_id: feed,
                decimals,
                max_conf_bps,
                max_future_secs: age,
                with_ema: true,
            };
            let decoded = oracle::decode(kind, &owner, data);
            let read = oracle::read_price(&c, &owner, data, now, age);
            if let Ok(raw) = decoded {
                let _ = oracle::check_price(&raw, &c, now, age);
                let _ = oracle::check_price(&raw, &c, raw.publish_time, age);
            } else {
                assert!(read.is_err());
            }
            let _ = pyth_pull::decode_any_verification(&owner, data);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(
        data in prop::collection::vec(any::<u8>(), 0..4000),
        offset in 0usize..8,
        decimals in any::<u8>(),
        max_conf_bps in any::<u16>(),
        now in any::<i64>(),
        age in any::<u32>(),
    ) {
        let m = misaligned(&data);
        exercise(&data, [0; 32], decimals, max_conf_bps, now, age);
        exercise(&bytes_of(&m)[1..=data.len()], [0; 32], decimals, max_conf_bps, now, age);
        if data.len() > offset {
            exercise(&data[offset..], [0; 32], decimals, max_conf_bps, now, age);
        }
    }

    #[test]
    fn mutated_fixtures_never_panic(
        which in any::<prop::sample::Index>(),
        mutations in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..24),
        truncate in prop::option::of(any::<prop::sample::Index>()),
        decimals in 0u8..=12,
        max_conf_bps in any::<u16>(),
        dt in -200i64..200,
        age in prop_oneof![Just(0u32), 1u32..100_000, Just(u32::MAX)],
    ) {
        let all = all_loaded();
        let (_, loaded) = &all[which.index(all.len())];
        let mut data = loaded.data.clone();
        for (at, byte) in &mutations {
            let i = at.index(data.len());
            data[i] = *byte;
        }
        if let Some(t) = truncate {
            data.truncate(t.index(data.len() + 1));
        }
        // Clock near the (possibly mutated) publish time, so the value checks are reached.
        let pt = oracle::decode(OracleKind::PythLegacy, &PYTH_LEGACY_MAINNET, &data)
            .or_else(|_| pyth_pull::decode_any_verification(&PYTH_RECEIVER, &data))
            .map(|r| r.publish_time)
            .unwrap_or(0);
        let now = pt.saturating_add(dt);
        let feed = pyth_pull::decode_any_verification(&PYTH_RECEIVER, &data)
            .map(|r| feed_of(&r))
            .unwrap_or([0; 32]);
        exercise(&data, feed, decimals, max_conf_bps, now, age);
        let m = misaligned(&data);
        let m = &bytes_of(&m)[1..=data.len()];
        for kind in [LEGACY, PULL] {
            for owner in owners() {
                prop_assert_eq!(
                    oracle::decode(kind, &owner, &data),
                    oracle::decode(kind, &owner, m)
                );
            }
        }
    }

    #[test]
    fn check_price_never_panics(
        price in any::<i64>(),
        conf in any::<u64>(),
        expo in any::<i32>(),
        publish_time in any::<i64>(),
        decimals in any::<u8>(),
        max_conf_bps in any::<u16>(),
        max_future_secs in any::<u32>(),
        now in any::<i64>(),
        age in any::<u32>(),
    ) {
        let raw = RawPrice {
            price,
            conf,
            expo,
            publish_time,
            ema_price: price,
            ema_conf: conf,
            detail: RawDetail::Legacy { status: 1, used_previous: false },
        };
        let c = OracleConfig {
            kind: LEGACY,
            feed_id: [0; 32],
            decimals,
            max_conf_bps,
            max_future_secs,
            with_ema: true,
        };
        if let Ok(p) = oracle::check_price(&raw, &c, now, age) {
            prop_assert!(p.token_price > I80F48::ZERO);
            prop_assert!(price > 0);
            prop_assert!(now.saturating_sub(publish_time) <= age as i64);
        }
        let _ = oracle::normalize(conf, expo, decimals);
    }
}
