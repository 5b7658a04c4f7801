//! Noise to action: GuardDuty `FindingCriteria` evaluated exactly as GuardDuty's filters do,
//! dry runs of suppression rules over the whole history, suggestions mined from the noise, and
//! rules exported as code (GuardDuty `CreateFilter`, Terraform, CloudFormation).
//!
//! Pure: no I/O, no async, no AWS types. Callers stream findings' GuardDuty JSON in.

pub mod criteria;
pub mod dry_run;
pub mod export;
pub mod suggest;

pub use criteria::{
    CriteriaError, FindingCriteria, MAX_ATTRIBUTES, MAX_FILTERS_PER_REGION, MAX_VALUES,
};
pub use dry_run::{DryRun, DryRunReport, FindingFacts, SeverityCounts};
pub use export::{export, ExportFormat, FilterAction, RuleError, SuppressionRule};
pub use suggest::{CandidateRuns, Miner, SuggestOptions, Suggestion};
