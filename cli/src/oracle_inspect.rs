//! `scalpel oracle inspect FILE`: decodes a Pyth account the way the program does and says
//! whether Scalpel would accept its price at a given time, and if not, why and what to do.
//!
//! The verdict comes from `scalpel::oracle::read_price`, the very function the program runs, so
//! what this prints is what a transaction would see.

use anchor_lang::prelude::Pubkey;
use anyhow::{anyhow, bail, Context, Result};
use base64::Engine;
use scalpel::constants::{bounds, PYTH_LEGACY_DEVNET, PYTH_LEGACY_MAINNET, PYTH_RECEIVER};
use scalpel::errors::ScalpelError;
use scalpel::oracle::{
    self, pyth_legacy, pyth_pull, OracleConfig, OracleKind, RawDetail, RawPrice,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Anchor discriminator of `PriceUpdateV2`.
const PRICE_UPDATE_V2_DISCRIMINATOR: [u8; 8] = [0x22, 0xf1, 0x23, 0x63, 0x9d, 0x7e, 0xf4, 0xcd];
/// Magic number of every legacy Pyth account.
const LEGACY_MAGIC: u32 = 0xa1b2_c3d4;
/// Legacy account types.
const LEGACY_MAPPING: u32 = 1;
const LEGACY_PRODUCT: u32 = 2;
const LEGACY_PRICE: u32 = 3;
/// Offset of the aggregate timestamp in a legacy price account.
const LEGACY_OFF_TIMESTAMP: usize = 96;

/// Arguments of `scalpel oracle inspect`.
#[derive(Debug, Clone, clap::Args)]
pub struct InspectArgs {
    /// Account data: raw bytes, or the JSON written by `solana account ADDRESS --output json`.
    pub file: PathBuf,
    /// Unix time to judge the price at [default: the account's publish time + 1 s; fixtures are
    /// old, so the wall clock would only ever say "stale"].
    #[arg(long, value_name = "UNIX_TIME", allow_hyphen_values = true)]
    pub at: Option<i64>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Token decimals: the accepted price is given in USD per native unit (10^-decimals of a
    /// token); 0 gives USD per whole token.
    #[arg(long, value_name = "N", default_value_t = 0,
          value_parser = clap::value_parser!(u8).range(0..=i64::from(bounds::MAX_DECIMALS)))]
    pub decimals: u8,
    /// Largest accepted age of the price, in seconds (also the tolerance for publish times in
    /// the future).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub max_age: u32,
    /// Largest accepted confidence, in basis points of the price.
    #[arg(long, value_name = "BPS", default_value_t = 200)]
    pub max_conf_bps: u16,
    /// Feed id the market expects (64 hex digits, `0x` optional) [default: the account's own].
    /// Ignored for legacy accounts, which carry none.
    #[arg(long, value_name = "HEX")]
    pub feed_id: Option<String>,
    /// Owner of the account [default: a JSON dump's owner field; for raw bytes the owner of
    /// their format: legacy mainnet FsJ3…, or the receiver rec5… for PriceUpdateV2].
    #[arg(long, value_name = "PUBKEY")]
    pub owner: Option<String>,
}

/// Everything the command found out, printed as a table or as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub file: String,
    /// `pyth_pull_price_update_v2`, `pyth_legacy_price`, `pyth_legacy_product`,
    /// `pyth_legacy_mapping` or `pyth_legacy_other`.
    pub format: String,
    /// Human name of the format.
    pub format_description: String,
    /// `raw` or `solana_json_dump`.
    pub input: String,
    /// The account's address, when a JSON dump says it.
    pub pubkey: Option<String>,
    pub data_len: usize,
    pub owner: String,
    /// `--owner`, `json_dump` or `inferred`.
    pub owner_source: String,
    pub price_mantissa: Option<i64>,
    pub conf_mantissa: Option<u64>,
    pub expo: Option<i32>,
    /// `price_mantissa · 10^expo`, exact decimal, USD per whole token.
    pub price: Option<String>,
    /// `conf_mantissa · 10^expo`, exact decimal.
    pub conf: Option<String>,
    pub conf_pct_of_price: Option<f64>,
    pub publish_time: Option<i64>,
    pub publish_time_utc: Option<String>,
    /// Legacy: `unknown`, `trading`, `halted`, `auction`, `ignored`.
    pub legacy_status: Option<String>,
    /// Legacy: the status is not trading, so the previous price and timestamp are the price.
    pub used_previous_price: Option<bool>,
    /// Legacy: the aggregate timestamp the account also carries (not used when
    /// `used_previous_price`).
    pub legacy_aggregate_timestamp: Option<i64>,
    /// Pull: `Full` or `Partial`.
    pub verification: Option<String>,
    pub partial_signatures: Option<u8>,
    /// Pull: feed id, `0x` + 64 hex digits.
    pub feed_id: Option<String>,
    pub posted_slot: Option<u64>,
    /// Product account: its price account.
    pub product_price_account: Option<String>,
    /// Product account: its attributes (symbol, base, quote_currency, …).
    pub product_attributes: Option<BTreeMap<String, String>>,
    /// Time the price was judged at.
    pub at: Option<i64>,
    pub at_utc: Option<String>,
    /// `at` was not given: publish time + 1 s.
    pub at_defaulted: bool,
    pub decimals: u8,
    pub max_age_secs: u32,
    pub max_conf_bps: u16,
    /// Pull: the feed id the check expected.
    pub expected_feed_id: Option<String>,
    /// `--feed-id` was given for a legacy account, which has no feed id.
    pub feed_id_ignored: bool,
    pub accepted: bool,
    /// Scalpel error name when rejected.
    pub error: Option<String>,
    /// The error's message.
    pub error_message: Option<String>,
    /// What the rejection means here and what to do about it.
    pub hint: Option<String>,
    /// Accepted: USD per native unit at `decimals`.
    pub normalized_price: Option<String>,
    pub normalized_conf: Option<String>,
    /// The verdict line.
    pub verdict: String,
}

/// Runs the command: prints the report, errors (non-zero exit) only when the file cannot be
/// read or is not a Pyth account.
pub fn run(args: &InspectArgs) -> Result<()> {
    let report = inspect(args)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render_text(&report));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------------------------

/// Account bytes and what a JSON dump said about them.
struct Input {
    data: Vec<u8>,
    json: Option<JsonMeta>,
}

struct JsonMeta {
    pubkey: Option<String>,
    owner: Option<Pubkey>,
}

fn load(path: &Path) -> Result<Input> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("file not found: {}", path.display())
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        bail!(
            "{} is a JSON array, not a Solana account dump (expected the output of \
             `solana account ADDRESS --output json`, or raw account bytes)",
            path.display()
        );
    }
    if first == Some(&b'{') {
        let (data, meta) = parse_json_dump(&bytes).with_context(|| {
            format!(
                "{} looks like JSON but is not a Solana account dump \
                 (expected the output of `solana account ADDRESS --output json`)",
                path.display()
            )
        })?;
        return Ok(Input {
            data,
            json: Some(meta),
        });
    }
    Ok(Input {
        data: bytes,
        json: None,
    })
}

/// `{"pubkey", "account": {"data": [BASE64, "base64"], "owner", …}}` (or the inner object).
fn parse_json_dump(bytes: &[u8]) -> Result<(Vec<u8>, JsonMeta)> {
    let v: serde_json::Value = serde_json::from_slice(bytes).context("invalid JSON")?;
    let account = v.get("account").unwrap_or(&v);
    let data = account
        .get("data")
        .ok_or_else(|| anyhow!("no `account.data` field"))?;
    let data = match data {
        serde_json::Value::Array(parts) => {
            let text = parts
                .first()
                .and_then(|p| p.as_str())
                .ok_or_else(|| anyhow!("`account.data[0]` is not a string"))?;
            let encoding = parts.get(1).and_then(|e| e.as_str()).unwrap_or("base64");
            match encoding {
                "base64" => base64::engine::general_purpose::STANDARD
                    .decode(text.trim())
                    .context("`account.data[0]` is not valid base64")?,
                other => bail!(
                    "data encoding {other:?} is not supported; dump the account again with \
                     `solana account ADDRESS --output json` (base64)"
                ),
            }
        }
        _ => bail!(
            "`account.data` is not a [DATA, \"base64\"] pair; dump the account again with \
             `solana account ADDRESS --output json`"
        ),
    };
    let owner = match account.get("owner").and_then(|o| o.as_str()) {
        Some(s) => Some(
            s.parse::<Pubkey>()
                .map_err(|_| anyhow!("`account.owner` {s:?} is not a base58 public key"))?,
        ),
        None => None,
    };
    let pubkey = v.get("pubkey").and_then(|p| p.as_str()).map(str::to_owned);
    Ok((data, JsonMeta { pubkey, owner }))
}

// ---------------------------------------------------------------------------------------------
// Format
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Pull,
    LegacyPrice,
    LegacyOther { atype: u32 },
}

impl Format {
    fn kind(self) -> OracleKind {
        match self {
            Format::Pull => OracleKind::PythPull,
            _ => OracleKind::PythLegacy,
        }
    }

    fn id(self) -> &'static str {
        match self {
            Format::Pull => "pyth_pull_price_update_v2",
            Format::LegacyPrice => "pyth_legacy_price",
            Format::LegacyOther {
                atype: LEGACY_PRODUCT,
            } => "pyth_legacy_product",
            Format::LegacyOther {
                atype: LEGACY_MAPPING,
            } => "pyth_legacy_mapping",
            Format::LegacyOther { .. } => "pyth_legacy_other",
        }
    }

    fn description(self) -> String {
        match self {
            Format::Pull => "Pyth pull oracle PriceUpdateV2 (pyth-solana-receiver-sdk)".into(),
            Format::LegacyPrice => "Pyth legacy push price account (pyth-sdk-solana)".into(),
            Format::LegacyOther {
                atype: LEGACY_PRODUCT,
            } => "Pyth legacy product account (not a price account)".into(),
            Format::LegacyOther {
                atype: LEGACY_MAPPING,
            } => "Pyth legacy mapping account (not a price account)".into(),
            Format::LegacyOther { atype } => {
                format!("Pyth legacy account of type {atype} (not a price account)")
            }
        }
    }
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn i64_at(data: &[u8], at: usize) -> Option<i64> {
    let b: [u8; 8] = data.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(i64::from_le_bytes(b))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn detect(data: &[u8]) -> Result<Format> {
    if data.is_empty() {
        bail!("not a Pyth price account: the account data is empty");
    }
    if data.starts_with(&PRICE_UPDATE_V2_DISCRIMINATOR) {
        return Ok(Format::Pull);
    }
    if u32_at(data, 0) == Some(LEGACY_MAGIC) {
        let atype = u32_at(data, 8).ok_or_else(|| {
            anyhow!(
                "not a Pyth price account: legacy Pyth magic but only {} bytes (truncated)",
                data.len()
            )
        })?;
        return Ok(if atype == LEGACY_PRICE {
            Format::LegacyPrice
        } else {
            Format::LegacyOther { atype }
        });
    }
    let head = &data[..data.len().min(8)];
    bail!(
        "not a Pyth price account: {} bytes starting with {}; expected a PriceUpdateV2 \
         (Anchor discriminator 22f123639d7ef4cd) or a legacy Pyth account (magic 0xa1b2c3d4, \
         bytes d4c3b2a1)",
        data.len(),
        hex(head)
    )
}

/// The account's price as it states it, whatever its owner and verification, for display.
fn decode_for_display(format: Format, data: &[u8]) -> Result<Option<RawPrice>> {
    match format {
        Format::Pull => pyth_pull::decode_any_verification(&PYTH_RECEIVER, data)
            .map(Some)
            .map_err(|_| {
                anyhow!(
                    "not a Pyth price account: it starts with the PriceUpdateV2 discriminator \
                     but its {} bytes do not decode as one (a PriceUpdateV2 needs 133 bytes \
                     when Full, 134 when Partial)",
                    data.len()
                )
            }),
        Format::LegacyPrice => pyth_legacy::decode(&PYTH_LEGACY_MAINNET, data)
            .map(Some)
            .map_err(|_| {
                let why = if data.len() < pyth_legacy::PRICE_ACCOUNT_LEN {
                    format!(
                        "truncated: {} bytes, a legacy price account has {}",
                        data.len(),
                        pyth_legacy::PRICE_ACCOUNT_LEN
                    )
                } else {
                    match u32_at(data, 4) {
                        Some(2) => {
                            "its type or status bytes are out of range (corrupt data)".to_string()
                        }
                        Some(v) => format!("version {v}, only version 2 is supported"),
                        None => "unreadable header".to_string(),
                    }
                };
                anyhow!("not a valid Pyth legacy price account: {why}")
            }),
        Format::LegacyOther { .. } => Ok(None),
    }
}

/// A product account's price account and attributes (`key`/`value` strings, each prefixed by
/// its u8 length, from offset 48 to the account's stated size).
fn product_info(data: &[u8]) -> (Option<Pubkey>, BTreeMap<String, String>) {
    let px = data
        .get(16..48)
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .map(Pubkey::new_from_array);
    let size = u32_at(data, 12).map_or(0, |s| s as usize).min(data.len());
    let mut attrs = BTreeMap::new();
    let mut at = 48usize;
    let next = |at: &mut usize| -> Option<String> {
        let len = *data.get(*at)? as usize;
        let s = data.get(*at + 1..*at + 1 + len)?;
        if *at + 1 + len > size {
            return None;
        }
        *at += 1 + len;
        Some(String::from_utf8_lossy(s).into_owned())
    };
    while at < size {
        let (Some(k), Some(v)) = (next(&mut at), next(&mut at)) else {
            break;
        };
        attrs.insert(k, v);
    }
    (px, attrs)
}

fn parse_feed_id(s: &str) -> Result<[u8; 32]> {
    let h = s.trim().trim_start_matches("0x");
    if h.len() != 64 || !h.bytes().all(|c| c.is_ascii_hexdigit()) {
        bail!("invalid --feed-id {s:?}: expected 64 hex digits (32 bytes), `0x` optional");
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&h[2 * i..2 * i + 2], 16)
            .map_err(|_| anyhow!("invalid --feed-id {s:?}"))?;
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Formatting helpers
// ---------------------------------------------------------------------------------------------

/// `mantissa · 10^expo` as an exact decimal string.
pub fn decimal(mantissa: i128, expo: i32) -> String {
    let digits = mantissa.unsigned_abs().to_string();
    let sign = if mantissa < 0 { "-" } else { "" };
    if !(-60..=40).contains(&expo) {
        return format!("{mantissa}e{expo}");
    }
    if expo >= 0 {
        if mantissa == 0 {
            return "0".into();
        }
        return format!("{sign}{digits}{}", "0".repeat(expo.unsigned_abs() as usize));
    }
    let places = expo.unsigned_abs() as usize;
    if digits.len() > places {
        let (i, f) = digits.split_at(digits.len() - places);
        format!("{sign}{i}.{f}")
    } else {
        format!("{sign}0.{}{digits}", "0".repeat(places - digits.len()))
    }
}

/// Unix time as ISO-8601 UTC (`1970-01-01T00:00:00Z`), for years 1 to 9999.
pub fn utc_iso8601(t: i64) -> Option<String> {
    if !(-62_135_596_800..=253_402_300_799).contains(&t) {
        return None;
    }
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    Some(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    ))
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn time_text(t: i64) -> String {
    match utc_iso8601(t) {
        Some(s) => format!("{t} ({s})"),
        None => format!("{t} (out of calendar range)"),
    }
}

fn legacy_status_name(s: u8) -> String {
    match s {
        0 => "unknown".into(),
        1 => "trading".into(),
        2 => "halted".into(),
        3 => "auction".into(),
        4 => "ignored".into(),
        n => format!("invalid ({n})"),
    }
}

fn short(p: &Pubkey) -> String {
    let s = p.to_string();
    format!("{}…", &s[..s.len().min(4)])
}

// ---------------------------------------------------------------------------------------------
// The inspection
// ---------------------------------------------------------------------------------------------

/// What the hints need to know.
struct Ctx<'a> {
    format: Format,
    raw: Option<&'a RawPrice>,
    owner: &'a Pubkey,
    owner_source: &'a str,
    at: i64,
    args: &'a InspectArgs,
    expected_feed: [u8; 32],
    product_price_account: Option<Pubkey>,
}

/// Decodes the file and judges its price; errors when the file cannot be read or decoded.
pub fn inspect(args: &InspectArgs) -> Result<Report> {
    let input = load(&args.file)?;
    let data = &input.data;
    let format = detect(data)?;
    let raw = decode_for_display(format, data)?;

    let (owner, owner_source) = match (&args.owner, input.json.as_ref().and_then(|j| j.owner)) {
        (Some(s), _) => (
            s.trim()
                .parse::<Pubkey>()
                .map_err(|_| anyhow!("invalid --owner {s:?}: not a base58 public key"))?,
            "--owner",
        ),
        (None, Some(o)) => (o, "json_dump"),
        (None, None) => match format {
            Format::Pull => (PYTH_RECEIVER, "inferred"),
            _ => (PYTH_LEGACY_MAINNET, "inferred"),
        },
    };
    let given_feed = args.feed_id.as_deref().map(parse_feed_id).transpose()?;
    let own_feed = raw.as_ref().and_then(|r| match r.detail {
        RawDetail::Pull { feed_id, .. } => Some(feed_id),
        RawDetail::Legacy { .. } => None,
    });
    let expected_feed = given_feed.or(own_feed).unwrap_or([0u8; 32]);

    let (at, at_defaulted) = match (args.at, raw.as_ref()) {
        (Some(t), _) => (Some(t), false),
        (None, Some(r)) => (Some(r.publish_time.saturating_add(1)), true),
        (None, None) => (None, true),
    };

    let cfg = OracleConfig {
        kind: format.kind(),
        feed_id: expected_feed,
        decimals: args.decimals,
        max_conf_bps: args.max_conf_bps,
        max_future_secs: args.max_age,
        with_ema: true,
    };
    let verdict = oracle::read_price(&cfg, &owner, data, at.unwrap_or(0), args.max_age);

    let (product_price_account, product_attributes) = match format {
        Format::LegacyOther {
            atype: LEGACY_PRODUCT,
        } => {
            let (px, attrs) = product_info(data);
            (px, Some(attrs))
        }
        _ => (None, None),
    };

    let mut r = Report {
        file: args.file.display().to_string(),
        format: format.id().into(),
        format_description: format.description(),
        input: if input.json.is_some() {
            "solana_json_dump".into()
        } else {
            "raw".into()
        },
        pubkey: input.json.as_ref().and_then(|j| j.pubkey.clone()),
        data_len: data.len(),
        owner: owner.to_string(),
        owner_source: owner_source.into(),
        price_mantissa: raw.map(|r| r.price),
        conf_mantissa: raw.map(|r| r.conf),
        expo: raw.map(|r| r.expo),
        price: raw.map(|r| decimal(r.price.into(), r.expo)),
        conf: raw.map(|r| decimal(r.conf.into(), r.expo)),
        conf_pct_of_price: raw
            .filter(|r| r.price > 0)
            .map(|r| r.conf as f64 / r.price as f64 * 100.0),
        publish_time: raw.map(|r| r.publish_time),
        publish_time_utc: raw.and_then(|r| utc_iso8601(r.publish_time)),
        legacy_status: None,
        used_previous_price: None,
        legacy_aggregate_timestamp: None,
        verification: None,
        partial_signatures: None,
        feed_id: own_feed.map(|f| format!("0x{}", hex(&f))),
        posted_slot: None,
        product_price_account: product_price_account.map(|p| p.to_string()),
        product_attributes,
        at,
        at_utc: at.and_then(utc_iso8601),
        at_defaulted,
        decimals: args.decimals,
        max_age_secs: args.max_age,
        max_conf_bps: args.max_conf_bps,
        expected_feed_id: (format == Format::Pull).then(|| format!("0x{}", hex(&expected_feed))),
        feed_id_ignored: format != Format::Pull && given_feed.is_some(),
        accepted: verdict.is_ok(),
        error: None,
        error_message: None,
        hint: None,
        normalized_price: None,
        normalized_conf: None,
        verdict: String::new(),
    };
    match raw.map(|r| r.detail) {
        Some(RawDetail::Legacy {
            status,
            used_previous,
        }) => {
            r.legacy_status = Some(legacy_status_name(status));
            r.used_previous_price = Some(used_previous);
            r.legacy_aggregate_timestamp = i64_at(data, LEGACY_OFF_TIMESTAMP);
        }
        Some(RawDetail::Pull {
            partial_signatures,
            posted_slot,
            ..
        }) => {
            r.verification = Some(if partial_signatures.is_some() {
                "Partial".into()
            } else {
                "Full".into()
            });
            r.partial_signatures = partial_signatures;
            r.posted_slot = Some(posted_slot);
        }
        None => {}
    }
    let at_text = at.map_or_else(|| "n/a".to_string(), |t| t.to_string());
    let per = if args.decimals == 0 {
        " (decimals 0: per whole token)".to_string()
    } else {
        format!(" ({} decimals)", args.decimals)
    };
    match verdict {
        Ok(p) => {
            let (price, conf) = (p.price(), p.conf());
            r.normalized_price = Some(price.to_string());
            r.normalized_conf = Some(conf.to_string());
            r.verdict =
                format!("accepted by Scalpel at {at_text}: price {price} USD per native unit{per}");
        }
        Err(e) => {
            let ctx = Ctx {
                format,
                raw: raw.as_ref(),
                owner: &owner,
                owner_source,
                at: at.unwrap_or(0),
                args,
                expected_feed,
                product_price_account,
            };
            let hint = hint(e, &ctx);
            r.verdict = format!("REJECTED at {at_text}: {} — {hint}", e.name());
            r.error = Some(e.name());
            r.error_message = Some(e.to_string());
            r.hint = Some(hint);
        }
    }
    Ok(r)
}

/// What a rejection means for this account, and what to do.
fn hint(e: ScalpelError, c: &Ctx<'_>) -> String {
    let raw = c.raw;
    match e {
        ScalpelError::OracleWrongOwner => {
            let expected = match c.format {
                Format::Pull => format!(
                    "PriceUpdateV2 accounts are owned by the Pyth receiver program {PYTH_RECEIVER}"
                ),
                _ => format!(
                    "legacy Pyth accounts are owned by the Pyth oracle program \
                     {PYTH_LEGACY_MAINNET} (mainnet) or {PYTH_LEGACY_DEVNET} (devnet)"
                ),
            };
            let source = match c.owner_source {
                "json_dump" => "the dump's owner field",
                "--owner" => "--owner",
                _ => "inferred",
            };
            format!(
                "the account is owned by {} ({source}), but {expected}; use the right account, \
                 or pass --owner if the owner given is wrong",
                c.owner
            )
        }
        ScalpelError::OracleInvalidAccount => match (c.format, c.product_price_account) {
            (
                Format::LegacyOther {
                    atype: LEGACY_PRODUCT,
                },
                Some(px),
            ) => format!(
                "this is a Pyth product account, not a price account; configure the market \
                 with its price account {px}"
            ),
            (Format::LegacyOther { .. }, _) => {
                "this is not a price account; configure the market with a Pyth price account".into()
            }
            _ => "the data does not decode as a price account of this kind".into(),
        },
        ScalpelError::OracleNotFullyVerified => {
            let n = match raw.map(|r| r.detail) {
                Some(RawDetail::Pull {
                    partial_signatures: Some(n),
                    ..
                }) => format!("{n} guardian signatures checked"),
                _ => "not all guardian signatures checked".into(),
            };
            format!(
                "this update was posted with Partial verification ({n}); Scalpel only accepts \
                 Full verification: use a price update posted from a fully verified VAA (e.g. \
                 the receiver's post_update, or the Pyth price feed accounts)"
            )
        }
        ScalpelError::OracleFeedMismatch => {
            let actual = match raw.map(|r| r.detail) {
                Some(RawDetail::Pull { feed_id, .. }) => format!("0x{}", hex(&feed_id)),
                _ => "another feed".into(),
            };
            format!(
                "the account holds feed {actual}, the market expects 0x{}; use the account of \
                 the expected feed (or check --feed-id)",
                hex(&c.expected_feed)
            )
        }
        ScalpelError::OraclePriceNonPositive => match raw {
            Some(r) if r.price > 0 => format!(
                "the price {} rounds to zero at {} decimals; no usable price",
                decimal(r.price.into(), r.expo),
                c.args.decimals
            ),
            Some(r) => format!(
                "the price is {}; zero or negative prices are never used",
                decimal(r.price.into(), r.expo)
            ),
            None => "zero or negative price".into(),
        },
        ScalpelError::OracleExponentOutOfRange => format!(
            "exponent {} is outside the supported range [{}, {}]",
            raw.map_or(0, |r| r.expo),
            bounds::MIN_EXPO,
            bounds::MAX_EXPO
        ),
        ScalpelError::OracleConfidenceTooWide => {
            let bps = raw
                .filter(|r| r.price > 0)
                .map_or(0.0, |r| r.conf as f64 / r.price as f64 * 10_000.0);
            format!(
                "the confidence is {bps:.2} bps of the price, above the limit of {} bps; wait \
                 for a tighter price, or check --max-conf-bps against the market's setting",
                c.args.max_conf_bps
            )
        }
        ScalpelError::OracleStale => match raw {
            Some(r) if r.publish_time <= 0 => format!(
                "the account has never published a price (publish time {}); it cannot price \
                 anything — use a live price account",
                r.publish_time
            ),
            Some(r) => {
                let age = c.at.saturating_sub(r.publish_time);
                let prev = match r.detail {
                    RawDetail::Legacy {
                        status,
                        used_previous: true,
                    } => format!(
                        " (status {}: the previous trading price and its timestamp count)",
                        legacy_status_name(status)
                    ),
                    _ => String::new(),
                };
                format!(
                    "the price is {age} s old at {}{prev}, more than the max age of {} s; use a \
                     fresh update (or choose another time with --at, or --max-age)",
                    c.at, c.args.max_age
                )
            }
            None => "the price is too old".into(),
        },
        ScalpelError::OracleFutureTimestamp => {
            let ahead = raw.map_or(0, |r| r.publish_time.saturating_sub(c.at));
            format!(
                "the publish time is {ahead} s after {}, more than the {} s tolerated; check the \
                 clock (--at)",
                c.at, c.args.max_age
            )
        }
        ScalpelError::MathOverflow => format!(
            "the price overflows Scalpel's fixed-point range at {} decimals",
            c.args.decimals
        ),
        other => other.to_string(),
    }
}

/// The report as an aligned table.
pub fn render_text(r: &Report) -> String {
    let mut rows: Vec<(&str, String)> = Vec::new();
    rows.push(("file", r.file.clone()));
    rows.push((
        "format",
        format!("{} — {} bytes", r.format_description, r.data_len),
    ));
    if let Some(pk) = &r.pubkey {
        rows.push(("address", pk.clone()));
    }
    let owner_note = match r.owner_source.as_str() {
        "--owner" => "given with --owner".to_string(),
        "json_dump" => "from the JSON dump".to_string(),
        _ => match r.format.as_str() {
            "pyth_pull_price_update_v2" => "inferred: the Pyth receiver program".to_string(),
            _ => format!(
                "inferred: legacy mainnet oracle program; devnet accounts are owned by {}",
                short(&PYTH_LEGACY_DEVNET)
            ),
        },
    };
    rows.push(("owner", format!("{} ({owner_note})", r.owner)));
    if let Some(px) = &r.product_price_account {
        rows.push(("price account", px.clone()));
    }
    if let Some(attrs) = &r.product_attributes {
        for (k, v) in attrs {
            rows.push(("attribute", format!("{k} = {v}")));
        }
    }
    if let Some(f) = &r.feed_id {
        rows.push(("feed id", f.clone()));
    }
    if let Some(v) = &r.verification {
        let text = match r.partial_signatures {
            Some(n) => format!("{v} ({n} signatures)"),
            None => v.clone(),
        };
        rows.push(("verification", text));
    }
    if let Some(s) = r.posted_slot {
        rows.push(("posted slot", s.to_string()));
    }
    if let Some(status) = &r.legacy_status {
        let text = if r.used_previous_price == Some(true) {
            format!("{status} (not trading: the previous price and its timestamp are used)")
        } else {
            status.clone()
        };
        rows.push(("status", text));
    }
    if let (Some(p), Some(m), Some(e)) = (&r.price, r.price_mantissa, r.expo) {
        rows.push((
            "price",
            format!("{p} USD per token (mantissa {m}, expo {e})"),
        ));
    }
    if let (Some(c), Some(m)) = (&r.conf, r.conf_mantissa) {
        let pct = r
            .conf_pct_of_price
            .map_or_else(|| "n/a".to_string(), |p| format!("{p:.4}% of price"));
        rows.push(("confidence", format!("{c} USD (mantissa {m}, {pct})")));
    }
    if let Some(t) = r.publish_time {
        rows.push(("publish time", time_text(t)));
    }
    if r.used_previous_price == Some(true) {
        if let Some(t) = r.legacy_aggregate_timestamp {
            rows.push(("aggregate time", format!("{} — not used", time_text(t))));
        }
    }
    let at = match r.at {
        Some(t) if r.at_defaulted => {
            format!(
                "{} — default: publish time + 1 s (pass --at to choose)",
                time_text(t)
            )
        }
        Some(t) => time_text(t),
        None => "n/a".into(),
    };
    rows.push(("checked at", at));
    let feed = match &r.expected_feed_id {
        Some(f) if Some(f) == r.feed_id.as_ref() => format!(", feed id {f} (the account's own)"),
        Some(f) => format!(", feed id {f}"),
        None if r.feed_id_ignored => {
            ", --feed-id ignored (legacy accounts carry no feed id)".to_string()
        }
        None => String::new(),
    };
    rows.push((
        "limits",
        format!(
            "max age {} s, max conf {} bps, decimals {}{feed}",
            r.max_age_secs, r.max_conf_bps, r.decimals
        ),
    ));
    rows.push(("verdict", r.verdict.clone()));
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (k, v) in rows {
        out.push_str(&format!("{k:<width$}  {v}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601() {
        assert_eq!(utc_iso8601(0).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(utc_iso8601(1_718_727_936).unwrap(), "2024-06-18T16:25:36Z");
        assert_eq!(utc_iso8601(951_782_400).unwrap(), "2000-02-29T00:00:00Z");
        assert_eq!(utc_iso8601(-1).unwrap(), "1969-12-31T23:59:59Z");
        assert_eq!(
            utc_iso8601(253_402_300_799).unwrap(),
            "9999-12-31T23:59:59Z"
        );
        assert_eq!(
            utc_iso8601(-62_135_596_800).unwrap(),
            "0001-01-01T00:00:00Z"
        );
        assert_eq!(utc_iso8601(i64::MIN), None);
        assert_eq!(utc_iso8601(i64::MAX), None);
    }

    #[test]
    fn decimals() {
        assert_eq!(decimal(13_467_731_930, -8), "134.67731930");
        assert_eq!(decimal(345_526, -10), "0.0000345526");
        assert_eq!(decimal(-5, -2), "-0.05");
        assert_eq!(decimal(7, 2), "700");
        assert_eq!(decimal(0, 3), "0");
        assert_eq!(decimal(1, -100), "1e-100");
    }

    #[test]
    fn feed_ids() {
        let h = "ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d";
        assert_eq!(parse_feed_id(h).unwrap()[0], 0xef);
        assert_eq!(parse_feed_id(&format!("0x{h}")).unwrap()[31], 0x6d);
        assert!(parse_feed_id("0x12").is_err());
        assert!(parse_feed_id(&"zz".repeat(32)).is_err());
    }
}
