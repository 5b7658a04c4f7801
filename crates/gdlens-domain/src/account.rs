//! AWS accounts as the organization knows them: name, owner, criticality.

use serde::{Deserialize, Serialize};

/// How important an account is to the business. Unknown accounts are `Unknown`, not Low.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Criticality {
    #[default]
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

impl Criticality {
    /// Stable numeric code (0 unknown … 4 critical): the scoring feature.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Lower-case name as written in config files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

/// An AWS account known to gdlens (from config, or from ListMembers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// 12-digit account id.
    pub id: String,
    /// Human name, e.g. `prod-payments`.
    #[serde(default)]
    pub name: String,
    /// Owning team or person.
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub criticality: Criticality,
}
