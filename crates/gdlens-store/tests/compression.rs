//! Compression with dictionaries trained on the store's own findings: every path that writes
//! trains them, rows written before and after stay readable byte for byte, and a dictionary
//! trained by another process is found when its rows are read.

use gdlens_demo::{DemoOptions, Generator};
use gdlens_domain::{normalize, Finding};
use gdlens_store::{EncodedFinding, NewFinding, Store, TRAIN_SAMPLES};

/// `n` realistic findings (every version counts) with their raw JSON.
fn demo(seed: u64, n: usize) -> Vec<NewFinding> {
    let opts = DemoOptions {
        seed,
        accounts: 20,
        regions: 3,
        findings: n,
        ..DemoOptions::default()
    };
    Generator::new(&opts)
        .unwrap()
        .map(|d| {
            let (finding, raw) = d.to_record().unwrap();
            NewFinding {
                finding,
                raw,
                source: "demo".into(),
            }
        })
        .collect()
}

fn samples(records: &[NewFinding]) -> Vec<(&Finding, &str)> {
    records
        .iter()
        .map(|r| (&r.finding, r.raw.as_str()))
        .collect()
}

/// Encodes `records` as an importer does, with the store's current dictionaries.
fn encode_all(store: &Store, records: &[NewFinding]) -> Vec<EncodedFinding> {
    let mut encoder = store.encoder();
    records
        .iter()
        .map(|r| {
            encoder
                .encode(&r.finding, &r.raw, r.source.clone())
                .unwrap()
        })
        .collect()
}

/// (raw codec, stored raw bytes, normalized codec) per stored version, in write order.
fn stored_codecs(store: &Store) -> Vec<(i64, usize, Option<i64>)> {
    let conn = rusqlite::Connection::open(store.path().unwrap()).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT v.raw_codec, length(v.raw), f.codec FROM finding_versions v
             LEFT JOIN findings f ON f.version_id = v.id ORDER BY v.id",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Every finding reads back exactly: raw bytes, every version, and the normalized form.
fn assert_reads_back(store: &Store, records: &[NewFinding]) {
    let mut latest = std::collections::HashMap::new();
    for r in records {
        let e = latest.entry(r.finding.id.clone()).or_insert(r);
        if r.finding.updated_at > e.finding.updated_at {
            *e = r;
        }
    }
    let ids: Vec<String> = latest.keys().cloned().collect();
    let got = store.get_findings(&ids).unwrap();
    assert_eq!(got.len(), ids.len());
    for g in &got {
        let want = latest[&g.finding.id];
        assert_eq!(g.raw, want.raw, "raw of {}", g.finding.id);
        assert_eq!(g.finding, want.finding, "normalized {}", g.finding.id);
    }
    // The raw-only read gives the same bytes, in the order asked, and skips unknown ids.
    let mut asked = ids.clone();
    asked.insert(0, "not-a-finding".to_string());
    let raw = store.latest_raw(&asked).unwrap();
    assert_eq!(raw.len(), ids.len());
    for ((id, text), want_id) in raw.iter().zip(&ids) {
        assert_eq!(id, want_id);
        assert_eq!(text, &latest[id].raw, "raw-only read of {id}");
    }
    let mut scanned = 0;
    store
        .scan_latest(|f| {
            assert_eq!(f, latest[&f.id].finding);
            scanned += 1;
        })
        .unwrap();
    assert_eq!(scanned, latest.len());
    for r in records.iter().step_by(97) {
        let versions = store.versions(&r.finding.id).unwrap();
        assert!(
            versions.iter().any(|v| v.raw == r.raw),
            "version of {} at {}",
            r.finding.id,
            r.finding.updated_at
        );
    }
}

#[test]
fn an_import_trains_first_then_every_row_is_small_and_reads_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let records = demo(3, 4_000);
    assert!(!store.has_dictionaries());
    assert!(!store.encoder().trained());

    assert!(store
        .train_dictionaries(&samples(&records[..TRAIN_SAMPLES]))
        .unwrap());
    assert!(store.has_dictionaries());
    // Trained once: a second call changes nothing.
    assert!(!store.train_dictionaries(&samples(&records)).unwrap());

    assert!(store.encoder().trained());
    for chunk in encode_all(&store, &records).chunks(1_000) {
        store.upsert_encoded_batch(chunk).unwrap();
    }

    let codecs = stored_codecs(&store);
    assert_eq!(codecs.len(), records.len());
    assert!(codecs
        .iter()
        .all(|(raw, _, norm)| *raw == 2 && norm.is_none_or(|c| c == 2)));
    let raw_in: usize = records.iter().map(|r| r.raw.len()).sum();
    let raw_stored: usize = codecs.iter().map(|(_, len, _)| len).sum();
    assert!(
        raw_stored * 4 < raw_in,
        "dictionary compression should shrink raw JSON over 4×: {raw_in} → {raw_stored}"
    );
    assert_reads_back(&store, &records);
    assert!(store.integrity_check().unwrap().is_empty());

    // The dictionaries are part of the store: a reopened store reads and writes with them.
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert!(store.has_dictionaries());
    assert_reads_back(&store, &records);
}

#[test]
fn small_batches_train_once_enough_findings_are_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let records = demo(5, TRAIN_SAMPLES + 1_000);
    // A sync writes a page at a time.
    let mut trained_after = None;
    for (i, page) in records.chunks(50).enumerate() {
        store.upsert_batch(page).unwrap();
        if trained_after.is_none() && store.has_dictionaries() {
            trained_after = Some((i + 1) * 50);
        }
    }
    let stored_when_trained = trained_after.expect("trained");
    assert!(
        store.count().unwrap() >= TRAIN_SAMPLES as u64,
        "training waits for {TRAIN_SAMPLES} stored findings"
    );
    assert!(stored_when_trained >= TRAIN_SAMPLES);
    let codecs = stored_codecs(&store);
    // Rows written before training stay LZ4; rows after are zstd; all read back.
    assert_eq!(codecs.first().unwrap().0, 1);
    assert_eq!(codecs.last().unwrap().0, 2);
    assert_reads_back(&store, &records);
}

#[test]
fn too_few_samples_train_nothing_and_rows_stay_readable() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let records = demo(9, 150);
    assert!(!store.train_dictionaries(&samples(&records)).unwrap());
    assert!(!store.has_dictionaries());
    store.upsert_batch(&records).unwrap();
    assert!(stored_codecs(&store).iter().all(|(raw, _, _)| *raw == 1));
    assert_reads_back(&store, &records);
}

#[test]
fn rows_compressed_by_another_process_are_read_with_its_dictionary() {
    let dir = tempfile::tempdir().unwrap();
    // A running server opened the store before anything was imported.
    let server = Store::open(dir.path()).unwrap();
    assert!(!server.has_dictionaries());

    // An import in another process trains and writes.
    let importer = Store::open(dir.path()).unwrap();
    let records = demo(11, 2_500);
    importer
        .train_dictionaries(&samples(&records[..TRAIN_SAMPLES]))
        .unwrap();
    importer
        .upsert_encoded_batch(&encode_all(&importer, &records))
        .unwrap();

    // The server finds the new dictionaries when it meets their rows.
    assert_reads_back(&server, &records);
    assert!(server.has_dictionaries());
    // And does not train a second pair of its own.
    assert!(!server.train_dictionaries(&samples(&records)).unwrap());
}

#[test]
fn a_corrupt_compressed_row_is_an_error_not_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let records = demo(13, 2_200);
    store
        .train_dictionaries(&samples(&records[..TRAIN_SAMPLES]))
        .unwrap();
    store.upsert_batch(&records).unwrap();
    let id = records[0].finding.id.clone();
    let conn = rusqlite::Connection::open(store.path().unwrap()).unwrap();
    // Keep the frame header (magic, dictionary id, length) and break what follows.
    conn.execute(
        "UPDATE finding_versions SET raw = substr(raw, 1, 12) || zeroblob(40)
         WHERE id = (SELECT version_id FROM findings WHERE id = ?1)",
        [&id],
    )
    .unwrap();
    let err = store.get_findings(std::slice::from_ref(&id)).unwrap_err();
    assert!(err.to_string().contains("zstd"), "{err}");
    // The normalized form of another finding is broken instead: re-normalized from raw.
    let other = records.iter().rev().find(|r| r.finding.id != id).unwrap();
    conn.execute(
        "UPDATE findings SET normalized = substr(normalized, 1, 10) WHERE id = ?1",
        [&other.finding.id],
    )
    .unwrap();
    let got = store
        .get_findings(std::slice::from_ref(&other.finding.id))
        .unwrap();
    let renormalized = normalize(&serde_json::from_str(&got[0].raw).unwrap()).unwrap();
    assert_eq!(got[0].finding, renormalized);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// Whatever the raw text (tiny, huge, any Unicode, unlike anything trained on), it comes back
    /// byte for byte from a store with dictionaries and from one without.
    #[test]
    fn any_raw_text_round_trips_with_and_without_dictionaries(
        raw in proptest::string::string_regex("(?s).{0,3000}").unwrap(),
        repeat in 1usize..4,
    ) {
        let raw = raw.repeat(repeat);
        for store in [trained_store(), untrained_store()] {
            let mut finding = base_finding().clone();
            finding.id = format!("prop-{}", store.count().unwrap());
            store
                .upsert_batch(&[NewFinding { finding: finding.clone(), raw: raw.clone(), source: "p".into() }])
                .unwrap();
            let got = store.get_findings(std::slice::from_ref(&finding.id)).unwrap();
            proptest::prop_assert_eq!(&got[0].raw, &raw);
        }
    }
}

fn trained_store() -> &'static Store {
    static STORE: std::sync::OnceLock<(tempfile::TempDir, Store)> = std::sync::OnceLock::new();
    let (_, store) = STORE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let records = demo(19, TRAIN_SAMPLES);
        assert!(store.train_dictionaries(&samples(&records)).unwrap());
        (dir, store)
    });
    store
}

fn base_finding() -> &'static Finding {
    static FINDING: std::sync::OnceLock<Finding> = std::sync::OnceLock::new();
    FINDING.get_or_init(|| demo(17, 1).remove(0).finding)
}

fn untrained_store() -> &'static Store {
    static STORE: std::sync::OnceLock<Store> = std::sync::OnceLock::new();
    STORE.get_or_init(|| Store::open_in_memory().unwrap())
}
