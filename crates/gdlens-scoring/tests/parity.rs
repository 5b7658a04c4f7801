//! Native side of the native/WASM parity check.
//!
//! Every `tests/wasm/vectors/<name>.json` (findings columns + runs of weights and filters) is
//! run through the pipeline natively; the result must equal `<name>.expected.json` exactly:
//! scores as the hex of their IEEE-754 bits, the order, and the explanations of the top rows.
//! `node --test tests/wasm/` checks the WASM build against the same expected files. After an
//! intended change of the scoring, rewrite them with
//! `GDLENS_BLESS=1 cargo test -p gdlens-scoring --test parity` and review the diff.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use gdlens_scoring::{prioritize, rank, score_all, FilterSpec, FindingColumns, Scorer, Weights};
use serde::Deserialize;
use serde_json::{json, Value};

/// How many top-ranked rows of each run have their explanation recorded.
const EXPLAINED_ROWS: usize = 5;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Vector {
    #[allow(dead_code)]
    description: String,
    columns: FindingColumns,
    runs: Vec<Run>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Run {
    name: String,
    #[serde(default)]
    weights: Weights,
    #[serde(default)]
    filter: FilterSpec,
}

fn bits(x: f64) -> String {
    format!("{:016x}", x.to_bits())
}

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/wasm/vectors")
}

fn expected_for(vector: &Vector) -> anyhow::Result<Value> {
    let mut runs = Vec::new();
    for run in &vector.runs {
        let ranked = prioritize(&vector.columns, &run.weights, &run.filter)
            .with_context(|| format!("run `{}`", run.name))?;
        // The separate entry points must agree with the pipeline bit for bit.
        let mut scores = vec![0.0; vector.columns.features.len()];
        score_all(&vector.columns.features, &run.weights, &mut scores)?;
        if scores
            .iter()
            .map(|s| s.to_bits())
            .ne(ranked.scores.iter().map(|s| s.to_bits()))
        {
            bail!("run `{}`: score_all differs from prioritize", run.name);
        }
        let scorer = Scorer::new(&run.weights)?;
        let explain: Vec<Value> = ranked
            .order
            .iter()
            .take(EXPLAINED_ROWS)
            .map(|&row| {
                let s = scorer.score_row(&vector.columns.features.row(row as usize));
                assert_eq!(s.value.to_bits(), ranked.scores[row as usize].to_bits());
                json!({
                    "row": row,
                    "value": bits(s.value),
                    "base": bits(s.base),
                    "multiplier": bits(s.multiplier),
                    "factors": s.factors.iter().map(|f| json!({
                        "name": f.name, "value": bits(f.value), "contribution": bits(f.contribution),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let unfiltered = rank(&ranked.scores, &vector.columns.tie_key, None)?;
        runs.push(json!({
            "name": run.name,
            "scores": ranked.scores.iter().map(|&s| bits(s)).collect::<Vec<_>>(),
            "order": ranked.order,
            "unfilteredOrder": unfiltered,
            "explain": explain,
        }));
    }
    Ok(json!({ "runs": runs }))
}

#[test]
fn native_results_match_the_committed_expected_files() -> anyhow::Result<()> {
    let bless = std::env::var_os("GDLENS_BLESS").is_some();
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(vectors_dir())
        .context("reading tests/wasm/vectors")?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    inputs.retain(|p| {
        p.extension().is_some_and(|e| e == "json")
            && !p.to_string_lossy().ends_with(".expected.json")
    });
    inputs.sort();
    assert!(
        inputs.len() >= 6,
        "expected the hand-written and the random vectors, found {inputs:?}"
    );
    let mut failures = Vec::new();
    for input in &inputs {
        let text = std::fs::read_to_string(input)?;
        let vector: Vector =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", input.display()))?;
        let actual =
            expected_for(&vector).with_context(|| format!("scoring {}", input.display()))?;
        let expected_path = input.with_extension("expected.json");
        if bless {
            std::fs::write(&expected_path, serde_json::to_string(&actual)? + "\n")?;
            continue;
        }
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(&expected_path).with_context(|| {
                format!(
                    "reading {} (bless with GDLENS_BLESS=1)",
                    expected_path.display()
                )
            })?)?;
        if expected != actual {
            failures.push(first_difference(input, &expected, &actual));
        }
    }
    if !failures.is_empty() {
        bail!(
            "native scoring differs from the expected files:\n{}",
            failures.join("\n")
        );
    }
    Ok(())
}

/// Names the first run and field that differ, so a failure is readable.
fn first_difference(input: &Path, expected: &Value, actual: &Value) -> String {
    let name = input.file_name().unwrap_or_default().to_string_lossy();
    let (e_runs, a_runs) = (&expected["runs"], &actual["runs"]);
    for i in 0..a_runs.as_array().map_or(0, Vec::len) {
        for field in ["scores", "order", "unfilteredOrder", "explain"] {
            if e_runs[i][field] != a_runs[i][field] {
                return format!(
                    "{name}: run {i} (`{}`): `{field}` differs",
                    a_runs[i]["name"]
                );
            }
        }
    }
    format!("{name}: the number of runs differs")
}
