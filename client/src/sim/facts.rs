//! The daily OHLC facts of a crash, read from a CSV (`data/crashes.csv`, built into the binary, or
//! a file of the same format), with the two gap rules a path needs before it can be drawn:
//! continuity (a missing open is the previous day's close and a missing close the next day's
//! open: crypto trades around the clock) and a window start (a missing first open is the first
//! fact of that day). Anything still missing stays missing: the bridge spans it.

use anyhow::{bail, Context, Result};

/// The repository's crash facts.
pub const BUNDLED: &str = include_str!("../../../data/crashes.csv");

/// One day of one asset; `None` is a cell the facts do not record.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Day {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Open, USD.
    pub open: Option<f64>,
    /// High, USD.
    pub high: Option<f64>,
    /// Low, USD.
    pub low: Option<f64>,
    /// Close, USD.
    pub close: Option<f64>,
}

impl Day {
    fn known(&self) -> impl Iterator<Item = f64> + '_ {
        [self.open, self.high, self.low, self.close]
            .into_iter()
            .flatten()
    }
}

/// One asset over the event's window, one entry per calendar day (days without a row are
/// all-missing).
#[derive(Clone, Debug)]
pub struct AssetFacts {
    /// Symbol (`SOL`, `ETH`, `BTC`).
    pub asset: String,
    /// Days, in order.
    pub days: Vec<Day>,
    /// Cells filled by the gap rules, as `date field`.
    pub filled: Vec<String>,
}

impl AssetFacts {
    /// Lowest and highest price the facts state for this asset over the window.
    pub fn range(&self) -> (f64, f64) {
        let all = self.days.iter().flat_map(Day::known);
        all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p), hi.max(p))
        })
    }

    /// Cells known, after the gap rules.
    pub fn known_cells(&self) -> usize {
        self.days.iter().map(|d| d.known().count()).sum()
    }
}

/// A crash: its window and assets, the asset with the most facts first.
#[derive(Clone, Debug)]
pub struct EventFacts {
    /// Event name.
    pub name: String,
    /// Assets; the first leads the others' shapes (see [`super::paths`]).
    pub assets: Vec<AssetFacts>,
    /// The file's comment lines (its sources).
    pub sources: Vec<String>,
}

impl EventFacts {
    /// Calendar days in the window.
    pub fn days(&self) -> usize {
        self.assets.first().map_or(0, |a| a.days.len())
    }

    /// The asset named `symbol`.
    pub fn asset(&self, symbol: &str) -> Option<usize> {
        self.assets.iter().position(|a| a.asset == symbol)
    }
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (proleptic Gregorian).
fn day_number(date: &str) -> Result<i64> {
    let parts: Vec<&str> = date.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        bail!("date {date:?}: use YYYY-MM-DD");
    };
    let (y, m, d): (i64, i64, i64) = (
        y.parse().with_context(|| format!("year of {date:?}"))?,
        m.parse().with_context(|| format!("month of {date:?}"))?,
        d.parse().with_context(|| format!("day of {date:?}"))?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        bail!("date {date:?}: month or day out of range");
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Ok(era * 146_097 + doe - 719_468)
}

fn date_of(day: i64) -> String {
    // civil_from_days.
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Reads event `name` from CSV `text` (`origin` names the file in errors).
pub fn load(text: &str, origin: &str, name: &str) -> Result<EventFacts> {
    let mut sources = Vec::new();
    let mut rows: Vec<(String, i64, Day)> = Vec::new();
    let mut header = false;
    let mut events = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let at = || format!("{origin} line {}", n + 1);
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(c) = line.strip_prefix('#') {
            sources.push(c.trim().to_string());
            continue;
        }
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if !header {
            if cells != ["event", "asset", "date", "open", "high", "low", "close"] {
                bail!(
                    "{}: the header must be event,asset,date,open,high,low,close",
                    at()
                );
            }
            header = true;
            continue;
        }
        if cells.len() != 7 {
            bail!("{}: {} cells, expected 7", at(), cells.len());
        }
        if !events.contains(&cells[0].to_string()) {
            events.push(cells[0].to_string());
        }
        if cells[0] != name {
            continue;
        }
        let price = |i: usize| -> Result<Option<f64>> {
            if cells[i].is_empty() {
                return Ok(None);
            }
            let v: f64 = cells[i]
                .parse()
                .with_context(|| format!("{}: {:?} is not a price", at(), cells[i]))?;
            if !(v.is_finite() && v > 0.0) {
                bail!("{}: prices must be positive", at());
            }
            Ok(Some(v))
        };
        let day = Day {
            date: cells[2].to_string(),
            open: price(3)?,
            high: price(4)?,
            low: price(5)?,
            close: price(6)?,
        };
        let known: Vec<f64> = day.known().collect();
        if day.high.is_some_and(|h| known.iter().any(|&p| p > h))
            || day.low.is_some_and(|l| known.iter().any(|&p| p < l))
        {
            bail!(
                "{}: the high must be the largest and the low the smallest price",
                at()
            );
        }
        rows.push((
            cells[1].to_string(),
            day_number(cells[2]).with_context(at)?,
            day,
        ));
    }
    if rows.is_empty() {
        bail!(
            "{origin} has no rows for event {name:?} (events there: {})",
            events.join(", ")
        );
    }
    let first = rows.iter().map(|r| r.1).min().unwrap_or(0);
    let last = rows.iter().map(|r| r.1).max().unwrap_or(0);
    let span = usize::try_from(last - first + 1)?;
    if span > 60 {
        bail!("event {name:?} spans {span} days; the simulation takes at most 60");
    }
    let mut assets: Vec<AssetFacts> = Vec::new();
    for (asset, day, facts) in rows {
        let i = match assets.iter().position(|a| a.asset == asset) {
            Some(i) => i,
            None => {
                assets.push(AssetFacts {
                    asset: asset.clone(),
                    days: (0..span)
                        .map(|k| Day {
                            date: date_of(first + k as i64),
                            ..Day::default()
                        })
                        .collect(),
                    filled: Vec::new(),
                });
                assets.len() - 1
            }
        };
        let slot = &mut assets[i].days[(day - first) as usize];
        if slot.known().count() > 0 {
            bail!("{origin}: two rows for {asset} on {}", facts.date);
        }
        *slot = facts;
    }
    if assets.len() > 2 {
        bail!(
            "event {name:?} has {} assets; the simulation takes one or two",
            assets.len()
        );
    }
    for a in &mut assets {
        fill_gaps(a);
        if a.days[0].open.is_none() {
            bail!("{}: no fact on the first day of the window", a.asset);
        }
    }
    // The asset with the most facts leads (a stable sort keeps file order on ties).
    assets.sort_by_key(|a| std::cmp::Reverse(a.known_cells()));
    Ok(EventFacts {
        name: name.to_string(),
        assets,
        sources,
    })
}

/// Continuity, then the window start (module docs).
fn fill_gaps(a: &mut AssetFacts) {
    for k in 0..a.days.len() {
        if a.days[k].open.is_none() && k > 0 {
            if let Some(c) = a.days[k - 1].close {
                a.days[k].open = Some(c);
                a.filled
                    .push(format!("{} open = previous close", a.days[k].date));
            }
        }
        if a.days[k].close.is_none() {
            if let Some(o) = a.days.get(k + 1).and_then(|d| d.open) {
                a.days[k].close = Some(o);
                a.filled
                    .push(format!("{} close = next open", a.days[k].date));
            }
        }
    }
    let d0 = &mut a.days[0];
    if d0.open.is_none() {
        // In time order an open comes first, then the extremes (order unknown), then the close.
        if let Some(p) = d0.high.or(d0.low).or(d0.close) {
            d0.open = Some(p);
            a.filled
                .push(format!("{} open = first fact of the day", d0.date));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_roundtrip() {
        assert_eq!(day_number("1970-01-01").unwrap(), 0);
        assert_eq!(day_number("2022-11-05").unwrap(), 19_301);
        for d in [19_301, 0, 18_334, 18_400] {
            assert_eq!(day_number(&date_of(d)).unwrap(), d);
        }
        assert!(day_number("2022-13-01").is_err());
    }

    #[test]
    fn bundled_events_with_their_gaps_filled() {
        let ftx = load(BUNDLED, "data/crashes.csv", "ftx_2022").unwrap();
        assert_eq!(ftx.days(), 6);
        let sol = &ftx.assets[0];
        assert_eq!(sol.days[0].open, Some(38.55)); // the 11-05 high opens the window
        assert_eq!(sol.days[2].close, Some(29.60));
        assert_eq!(sol.days[3].open, Some(29.60));
        assert_eq!(sol.days[4].close, Some(13.94));
        assert_eq!(sol.days[5].open, Some(13.94)); // previous close
        assert_eq!(
            sol.days[1],
            Day {
                date: "2022-11-06".into(),
                ..Day::default()
            }
        );
        assert_eq!(sol.range(), (12.51, 38.55));

        let mar = load(BUNDLED, "data/crashes.csv", "mar_2020").unwrap();
        assert_eq!(mar.assets[0].asset, "BTC"); // more facts than ETH: it leads
        assert_eq!(mar.assets[1].asset, "ETH");
        assert_eq!(mar.assets[0].days[1].open, Some(4841.67));
        assert_eq!(mar.days(), 2);
        let may = load(BUNDLED, "data/crashes.csv", "may_2021").unwrap();
        assert_eq!(may.days(), 5);

        let e = load(BUNDLED, "data/crashes.csv", "luna_2022").unwrap_err();
        assert!(
            format!("{e}").contains("ftx_2022, may_2021, mar_2020"),
            "{e}"
        );
    }

    #[test]
    fn inconsistent_rows_are_refused() {
        let head = "event,asset,date,open,high,low,close\n";
        let bad = format!("{head}x,SOL,2022-01-01,10,9,,\n");
        assert!(load(&bad, "f", "x").is_err());
        let bad = format!("{head}x,SOL,2022-01-01,10,,,-1\n");
        assert!(load(&bad, "f", "x").is_err());
        assert!(load("a,b\n", "f", "x").is_err());
    }
}
