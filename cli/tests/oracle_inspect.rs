//! `scalpel oracle inspect` run as a binary on the real Pyth fixtures.

use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/pyth")
        .join(rel)
}

const PULL_SOL: &str = "drift-protocol-v2/pythPullOracleData_ts_L5_PYTH_ORACLE_TWO_DATA.bin";
const PULL_USDC: &str = "marginfi-v2/pyth_push_usdc_price.bin";
const PARTIAL_USDC: &str = "drift-protocol-v2/tests_liquidation_L8969_test.bin";
const LEGACY_JSON: &str = "marginfi-v2/sol_pyth_oracle.orig_owner_FsJ3.json";
const LEGACY_JSON_REWRITTEN_OWNER: &str = "marginfi-v2/sol_pyth_oracle.json";
const LEGACY_BONK: &str = "drift-protocol-v2/tests_position_L2213_update_amm_near_boundary.bin";
const ZERO_TS: &str = "mango-v4/J83w4HKfqxwcq3BEMMkPFSppX3gqekLyLJBexebFVkix.bin";
const PRODUCT: &str = "solend-spl/program__3Mnn2fX6rQyUsyELYms1sBJyChWofzSNRoqYzvgMVz5E.bin";

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn scalpel(args: &[&str]) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(env!("CARGO_BIN_EXE_scalpel"))
        .args(args)
        .output()
        .expect("run scalpel");
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

fn inspect(file: &str, extra: &[&str]) -> Run {
    let path = fixture(file);
    let path = path.to_str().expect("utf-8 path");
    let mut args = vec!["oracle", "inspect", path];
    args.extend_from_slice(extra);
    scalpel(&args)
}

fn inspect_json(file: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    let r = inspect(file, &args);
    assert_eq!(r.code, Some(0), "stderr: {}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("JSON: {e}\n{}", r.stdout))
}

/// Asserts exit 0 and that every needle is in stdout.
fn ok_with(r: &Run, needles: &[&str]) {
    assert_eq!(
        r.code,
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        r.stdout,
        r.stderr
    );
    for n in needles {
        assert!(r.stdout.contains(n), "missing {n:?} in:\n{}", r.stdout);
    }
}

#[test]
fn accepted_pull_file() {
    let r = inspect(PULL_SOL, &[]);
    ok_with(
        &r,
        &[
            "PriceUpdateV2",
            "rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ (inferred",
            "134.67731930 USD per token (mantissa 13467731930, expo -8)",
            "0.13012302 USD (mantissa 13012302, 0.0966% of price)",
            "1718727936 (2024-06-18T16:25:36Z)",
            "Full",
            "0xef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d",
            "1718727937 (2024-06-18T16:25:37Z) — default: publish time + 1 s",
            "accepted by Scalpel at 1718727937: price 134.6773192",
            "USD per native unit",
        ],
    );
    assert!(!r.stdout.contains("REJECTED"));
}

#[test]
fn partial_file_is_rejected() {
    let r = inspect(PARTIAL_USDC, &[]);
    ok_with(
        &r,
        &[
            "Partial (3 signatures)",
            "1.00000132 USD per token",
            "1734648615 (2024-12-19T22:50:15Z)",
            "REJECTED at 1734648616: OracleNotFullyVerified — ",
        ],
    );
    let j = inspect_json(PARTIAL_USDC, &[]);
    assert_eq!(j["accepted"], false);
    assert_eq!(j["error"], "OracleNotFullyVerified");
    assert_eq!(j["verification"], "Partial");
    assert_eq!(j["partial_signatures"], 3);
    assert_eq!(j["price_mantissa"], 100_000_132);
}

#[test]
fn legacy_json_dump() {
    // Status unknown: the previous price and timestamp are what is judged.
    let r = inspect(LEGACY_JSON, &[]);
    ok_with(
        &r,
        &[
            "legacy push price account",
            "H6ARHf6YXhGYeQfUzQNGk6rDNnLBQKrenN712K4AQJEG",
            "FsJ3A3u2vn5cTVofAjvy6y5kwABJAqYWpe4975bi2epH (from the JSON dump)",
            "unknown (not trading: the previous price and its timestamp are used)",
            "119.23378000 USD per token (mantissa 11923378000, expo -8)",
            "1722852532 (2024-08-05T10:08:52Z)",
            "1730534860 (2024-11-02T08:07:40Z) — not used",
            "accepted by Scalpel at 1722852533: price 119.23378 USD per native unit",
        ],
    );
    // At the aggregate timestamp the previous price is months old.
    let r = inspect(LEGACY_JSON, &["--at", "1730534865"]);
    ok_with(&r, &["REJECTED at 1730534865: OracleStale"]);
    // The dump whose owner field was rewritten to the receiver program.
    let r = inspect(LEGACY_JSON_REWRITTEN_OWNER, &[]);
    ok_with(
        &r,
        &[
            "rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ (from the JSON dump)",
            "REJECTED at 1722852533: OracleWrongOwner — ",
            "--owner",
        ],
    );
    // ... which --owner overrides.
    let r = inspect(
        LEGACY_JSON_REWRITTEN_OWNER,
        &["--owner", "FsJ3A3u2vn5cTVofAjvy6y5kwABJAqYWpe4975bi2epH"],
    );
    ok_with(&r, &["given with --owner", "accepted by Scalpel"]);
}

#[test]
fn legacy_raw_file() {
    let r = inspect(LEGACY_BONK, &["--decimals", "5"]);
    ok_with(
        &r,
        &[
            "FsJ3A3u2vn5cTVofAjvy6y5kwABJAqYWpe4975bi2epH (inferred",
            "trading",
            "0.0000145975 USD per token (mantissa 145975, expo -10)",
            "accepted by Scalpel at 1702120658",
            "(5 decimals)",
        ],
    );
    let r = inspect(
        LEGACY_BONK,
        &["--owner", "gSbePebfvPy7tRqimPoVecS2UsBvYv46ynrzWocc92s"],
    );
    ok_with(&r, &["accepted by Scalpel"]);
    let r = inspect(
        LEGACY_BONK,
        &["--owner", "rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ"],
    );
    ok_with(&r, &["OracleWrongOwner"]);
}

#[test]
fn zero_timestamp_account_is_stale() {
    let r = inspect(ZERO_TS, &[]);
    ok_with(
        &r,
        &[
            "32.112500000 USD per token",
            "0 (1970-01-01T00:00:00Z)",
            "REJECTED at 1: OracleStale — the account has never published",
        ],
    );
    let r = inspect(ZERO_TS, &["--at", "1700000000"]);
    ok_with(&r, &["OracleStale"]);
}

#[test]
fn product_account_is_rejected() {
    let r = inspect(PRODUCT, &[]);
    ok_with(
        &r,
        &[
            "product account (not a price account)",
            "J83w4HKfqxwcq3BEMMkPFSppX3gqekLyLJBexebFVkix",
            "symbol = Crypto.SOL/USD",
            "OracleInvalidAccount",
        ],
    );
    let j = inspect_json(PRODUCT, &[]);
    assert_eq!(j["format"], "pyth_legacy_product");
    assert_eq!(j["accepted"], false);
    assert_eq!(j["error"], "OracleInvalidAccount");
    assert_eq!(
        j["product_price_account"],
        "J83w4HKfqxwcq3BEMMkPFSppX3gqekLyLJBexebFVkix"
    );
    assert!(j["price_mantissa"].is_null());
}

#[test]
fn json_output_fields() {
    let j = inspect_json(PULL_SOL, &["--decimals", "9"]);
    assert_eq!(j["format"], "pyth_pull_price_update_v2");
    assert_eq!(j["owner"], "rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ");
    assert_eq!(j["owner_source"], "inferred");
    assert_eq!(j["price_mantissa"], 13_467_731_930i64);
    assert_eq!(j["conf_mantissa"], 13_012_302);
    assert_eq!(j["expo"], -8);
    assert_eq!(j["price"], "134.67731930");
    assert_eq!(j["publish_time"], 1_718_727_936);
    assert_eq!(j["publish_time_utc"], "2024-06-18T16:25:36Z");
    assert_eq!(j["verification"], "Full");
    assert!(j["partial_signatures"].is_null());
    assert_eq!(
        j["feed_id"],
        "0xef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d"
    );
    assert_eq!(j["at"], 1_718_727_937);
    assert_eq!(j["at_defaulted"], true);
    assert_eq!(j["decimals"], 9);
    assert_eq!(j["max_age_secs"], 60);
    assert_eq!(j["max_conf_bps"], 200);
    assert_eq!(j["accepted"], true);
    assert!(j["error"].is_null());
    let p: f64 = j["normalized_price"]
        .as_str()
        .expect("normalized price string")
        .parse()
        .expect("decimal");
    // I80F48 resolution is 2^-48 ≈ 3.6e-15.
    assert!((p - 1.346_773_193e-7).abs() < 1e-14, "{p}");
    let pct = j["conf_pct_of_price"].as_f64().expect("number");
    assert!((pct - 0.096_618).abs() < 1e-5, "{pct}");

    // Rejections carry the error name and a hint.
    let j = inspect_json(PULL_SOL, &["--at", "1718727997"]);
    assert_eq!(j["accepted"], false);
    assert_eq!(j["error"], "OracleStale");
    assert_eq!(j["at_defaulted"], false);
    assert!(j["hint"].as_str().expect("hint").contains("61 s old"));
    assert!(j["normalized_price"].is_null());
}

#[test]
fn checks_follow_the_options() {
    let usdc_at = "1747165254";
    let r = inspect(PULL_USDC, &["--at", "1747165313"]);
    ok_with(&r, &["accepted by Scalpel at 1747165313"]);
    let r = inspect(PULL_USDC, &["--at", "1747165314"]);
    ok_with(&r, &["OracleStale"]);
    let r = inspect(PULL_USDC, &["--at", "1747165314", "--max-age", "61"]);
    ok_with(&r, &["accepted"]);
    let r = inspect(PULL_USDC, &["--at", "1747165192"]);
    ok_with(&r, &["OracleFutureTimestamp"]);
    // conf / price = 6.8 bps.
    let r = inspect(PULL_USDC, &["--max-conf-bps", "6"]);
    ok_with(&r, &["OracleConfidenceTooWide", "6.80 bps"]);
    let r = inspect(PULL_USDC, &["--max-conf-bps", "7"]);
    ok_with(&r, &[&format!("accepted by Scalpel at {usdc_at}")]);
    // A SOL market reading the USDC update.
    let r = inspect(
        PULL_USDC,
        &[
            "--feed-id",
            "0xef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d",
        ],
    );
    ok_with(&r, &["OracleFeedMismatch"]);
    let r = inspect(
        PULL_USDC,
        &["--owner", "FsJ3A3u2vn5cTVofAjvy6y5kwABJAqYWpe4975bi2epH"],
    );
    ok_with(&r, &["OracleWrongOwner"]);
}

#[test]
fn every_fixture_decodes() {
    let dir = fixture("");
    let mut n = 0;
    for sub in std::fs::read_dir(&dir).expect("fixtures dir") {
        let sub = sub.expect("entry").path();
        if !sub.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&sub).expect("sub dir") {
            let f = f.expect("entry").path();
            let name = f.file_name().and_then(|s| s.to_str()).unwrap_or("");
            let is_data =
                name.ends_with(".bin") || (name.ends_with(".json") && name != "index.json");
            if !is_data {
                continue;
            }
            n += 1;
            let r = scalpel(&["oracle", "inspect", f.to_str().expect("utf-8"), "--json"]);
            assert_eq!(r.code, Some(0), "{name}: {}", r.stderr);
            let j: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
            assert!(j["accepted"].is_boolean(), "{name}");
            assert_eq!(j["accepted"], j["error"].is_null(), "{name}");
        }
    }
    assert_eq!(n, 24);
}

#[test]
fn unreadable_inputs_fail_with_a_helpful_message() {
    let r = scalpel(&["oracle", "inspect", "/definitely/not/here.bin"]);
    assert_ne!(r.code, Some(0));
    assert!(
        r.stderr
            .contains("file not found: /definitely/not/here.bin"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty());

    let r = inspect("README.md", &[]);
    assert_ne!(r.code, Some(0));
    assert!(
        r.stderr.contains("not a Pyth price account"),
        "{}",
        r.stderr
    );

    let r = inspect("drift-protocol-v2/index.json", &[]);
    assert_ne!(r.code, Some(0));
    assert!(
        r.stderr.contains("not a Solana account dump"),
        "{}",
        r.stderr
    );

    let dir = std::env::temp_dir().join(format!("scalpel-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let truncated = dir.join("truncated.bin");
    let bytes = std::fs::read(fixture(LEGACY_BONK)).expect("fixture");
    std::fs::write(&truncated, &bytes[..100]).expect("write");
    let r = scalpel(&["oracle", "inspect", truncated.to_str().expect("utf-8")]);
    assert_ne!(r.code, Some(0));
    assert!(r.stderr.contains("truncated: 100 bytes"), "{}", r.stderr);
    let bad_json = dir.join("bad.json");
    std::fs::write(&bad_json, br#"{"pubkey": "x", "account": {"owner": "y"}}"#).expect("write");
    let r = scalpel(&["oracle", "inspect", bad_json.to_str().expect("utf-8")]);
    assert_ne!(r.code, Some(0));
    assert!(
        r.stderr.contains("not a Solana account dump"),
        "{}",
        r.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);

    let r = inspect(PULL_SOL, &["--feed-id", "abc"]);
    assert_ne!(r.code, Some(0));
    assert!(r.stderr.contains("invalid --feed-id"), "{}", r.stderr);
    let r = inspect(PULL_SOL, &["--owner", "not-a-key"]);
    assert_ne!(r.code, Some(0));
    assert!(r.stderr.contains("invalid --owner"), "{}", r.stderr);
}
