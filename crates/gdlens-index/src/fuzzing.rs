//! The body of the `filter_compile` fuzz target (`fuzz/fuzz_targets/filter_compile.rs`), shared
//! with the corpus replay test (`tests/fuzz_corpus.rs`). Not part of the index API.
//!
//! The finding filter is implemented twice: [`FindingIndex::filter`] (server lists, summaries)
//! and `gdlens_scoring::CompiledFilter` over feature and code columns (the browser's WASM ranking,
//! fed by [`FindingIndex::features`] and [`FindingIndex::code_columns`]). [`filter_agreement`]
//! checks they select the same rows. Where they legitimately differ it compares the shared part:
//! `resourceKey` has no column on the scoring side (it rejects the field), so it is never set;
//! the scope is `Scope::All` (the scoring side only ever sees rows already scoped); a NaN
//! `severityMin` is an error for the scoring filter and matches nothing in the index.

use gdlens_domain::time::EpochMillis;
use gdlens_domain::{normalize_json, FindingFilter, JsonRef, Scope, SeverityLabel, TriageStatus};
use gdlens_scoring::{CompiledFilter, FilterSpec};

use crate::FindingIndex;

/// Builds the index of an NDJSON fixture (one finding per line) and gives row `i` the triage
/// status `i % 6`, so triage filters select something.
pub fn fixture_index(ndjson: &str) -> FindingIndex {
    let findings = ndjson.lines().filter(|l| !l.trim().is_empty()).map(|line| {
        let json = JsonRef::parse(line).expect("fixture line is JSON");
        normalize_json(&json).expect("fixture line is a finding")
    });
    let mut index = FindingIndex::build(findings);
    for row in 0..index.len() as u32 {
        let id = index.id(row).to_string();
        let status = TriageStatus::ALL[row as usize % TriageStatus::ALL.len()];
        index.set_triage(&id, status).expect("row of the index");
    }
    index
}

/// Decodes a [`FindingFilter`] from `data` and panics unless the index and the scoring crate's
/// filter select the same rows of `index`.
pub fn filter_agreement(index: &FindingIndex, data: &[u8]) {
    let filter = decode_filter(index, data);
    let from_index = index.filter(&filter, &Scope::All);

    let rows: Vec<u32> = (0..index.len() as u32).collect();
    let features = index.features(&rows, 0, |_| None);
    let (codes, dictionaries) = index.code_columns(&rows);
    let spec = FilterSpec::from_finding_filter(&filter, &dictionaries)
        .expect("no resourceKey: every field translates");
    let compiled = match CompiledFilter::new(&spec, &dictionaries) {
        Ok(c) => c,
        Err(e) => {
            assert!(
                filter.severity_min.is_some_and(f64::is_nan),
                "scoring rejected {filter:?}: {e}"
            );
            assert!(from_index.is_empty(), "NaN severityMin matched rows");
            return;
        }
    };
    let by_row: Vec<u32> = rows
        .iter()
        .copied()
        .filter(|&r| compiled.matches(&features, &codes, r as usize))
        .collect();
    assert_eq!(
        from_index, by_row,
        "index and scoring filter differ on {filter:?}"
    );
    let mut mask = Vec::new();
    compiled.mask_into(&features, &codes, &mut mask);
    let by_mask: Vec<u32> = rows
        .iter()
        .copied()
        .filter(|&r| mask[r as usize] == 1)
        .collect();
    assert_eq!(
        by_mask, by_row,
        "mask_into and matches differ on {filter:?}"
    );
}

/// Reads bytes as small choices; past the end every read is 0, so any input decodes.
struct Choices<'a> {
    data: &'a [u8],
}

impl Choices<'_> {
    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    fn flag(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    fn pick<T: Clone>(&mut self, from: &[T]) -> Option<T> {
        (!from.is_empty()).then(|| from[self.byte() as usize % from.len()].clone())
    }

    fn i64(&mut self) -> i64 {
        i64::from_le_bytes(std::array::from_fn(|_| self.byte()))
    }

    /// A string: mostly one the index knows (whole, a prefix or a substring, maybe re-cased and
    /// padded), sometimes raw input bytes.
    fn string(&mut self, known: &[&str]) -> String {
        let mode = self.byte();
        let Some(s) = self.pick(known).filter(|_| mode < 200) else {
            let len = self.byte() as usize % 16;
            let raw: Vec<u8> = (0..len).map(|_| self.byte()).collect();
            return String::from_utf8_lossy(&raw).into_owned();
        };
        let chars: Vec<char> = s.chars().collect();
        // mode % 3: 0 the whole string, 1 a prefix, 2 a substring.
        let (start, end) = match mode % 3 {
            0 => (0, chars.len()),
            cut => {
                let start = if cut == 2 {
                    self.byte() as usize % (chars.len() + 1)
                } else {
                    0
                };
                (
                    start,
                    start + self.byte() as usize % (chars.len() - start + 1),
                )
            }
        };
        let mut out: String = chars[start..end].iter().collect();
        if mode & 8 != 0 {
            out = out.to_uppercase();
        }
        if mode & 16 != 0 {
            out = format!(" {out}\t");
        }
        out
    }

    fn strings(&mut self, known: &[&str]) -> Option<Vec<String>> {
        self.flag().then(|| {
            let n = self.byte() % 4;
            (0..n).map(|_| self.string(known)).collect()
        })
    }

    fn time(&mut self, known: &[EpochMillis]) -> Option<EpochMillis> {
        let mode = self.byte();
        match mode % 4 {
            0 => None,
            1 => self.pick(known).map(|t| t + i64::from(mode >> 2) % 3 - 1),
            2 => Some(self.i64()),
            _ => self.pick(&[EpochMillis::MIN, EpochMillis::MAX, 0]),
        }
    }
}

/// The distinct values of one string column, sorted.
fn distinct<'a>(
    index: &'a FindingIndex,
    column: fn(&'a FindingIndex, u32) -> &'a str,
) -> Vec<&'a str> {
    let mut v: Vec<&str> = (0..index.len() as u32).map(|r| column(index, r)).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// A filter over the strings, severities and times of `index`, chosen by `data`.
fn decode_filter(index: &FindingIndex, data: &[u8]) -> FindingFilter {
    let mut c = Choices { data };
    let accounts = distinct(index, FindingIndex::account_id);
    let regions = distinct(index, FindingIndex::region);
    let types = distinct(index, FindingIndex::finding_type);
    let resource_types = distinct(index, FindingIndex::resource_type);
    let mut words = types.clone();
    words.extend(distinct(index, FindingIndex::title));
    let times: Vec<EpochMillis> = (0..index.len() as u32)
        .map(|r| index.updated_at(r))
        .collect();
    let severities = [
        f64::NAN,
        f64::NEG_INFINITY,
        f64::INFINITY,
        -0.0,
        0.0,
        1.0,
        2.0,
        3.9,
        4.0,
        6.9,
        7.0,
        8.0,
        8.9,
        9.0,
        9.2,
        10.0,
    ];
    let labels = [
        SeverityLabel::Low,
        SeverityLabel::Medium,
        SeverityLabel::High,
        SeverityLabel::Critical,
    ];
    let subset = |c: &mut Choices<'_>, n: usize| -> Option<Vec<usize>> {
        c.flag().then(|| {
            let bits = c.byte();
            (0..n).filter(|i| bits & (1 << i) != 0).collect()
        })
    };
    FindingFilter {
        account_ids: c.strings(&accounts),
        regions: c.strings(&regions),
        severity_min: if c.flag() { c.pick(&severities) } else { None },
        severity_labels: subset(&mut c, 4).map(|ix| ix.into_iter().map(|i| labels[i]).collect()),
        types: c.strings(&types),
        type_prefix: c.flag().then(|| c.string(&types)),
        resource_types: c.strings(&resource_types),
        resource_key: None,
        archived: c.pick(&[None, Some(false), Some(true)]).flatten(),
        include_samples: c.flag(),
        updated_since: c.time(&times),
        updated_before: c.time(&times),
        triage_status: subset(&mut c, 6)
            .map(|ix| ix.into_iter().map(|i| TriageStatus::ALL[i]).collect()),
        search: c.flag().then(|| c.string(&words)),
        // The scoring crate's columns hold no `createdAt`: it refuses `overdue`, which
        // tests/summary_vs_naive.rs holds to a naive recomputation instead.
        overdue: None,
        as_of: None,
    }
}
