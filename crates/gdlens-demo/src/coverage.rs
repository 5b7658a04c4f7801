//! The demo organization's GuardDuty coverage, as a sync would record it: the first account
//! (`security-tooling`) is the delegated administrator, every other account a member in every
//! region, with the gaps a real organization has — an account not a member in one region, one
//! only invited, one disabled, a few with runtime monitoring or EKS audit logs off, a staging
//! account without RDS protection, and the administrator's own Lambda network logs off in one
//! region. Deterministic: same options, same coverage.

use gdlens_domain::coverage::{CoverageFeature, CoverageRow, RegionCoverage, PLANS};

use crate::world::{accounts, regions};
use crate::DemoOptions;

/// Coverage of every demo account × region.
pub fn coverage(opts: &DemoOptions) -> Vec<RegionCoverage> {
    let accounts = accounts(opts);
    let regions = regions(opts);
    let last = regions.len().saturating_sub(1);
    let named = |prefix: &str, nth: usize| {
        accounts
            .iter()
            .enumerate()
            .filter(|(_, a)| a.name.starts_with(prefix))
            .nth(nth)
            .map(|(i, _)| i)
    };
    // The planted gaps, by account index (absent when the organization is too small).
    let not_member = named("sandbox", 0).or(named("dev", 1));
    let invited = named("sandbox", 1).or(named("dev", 2));
    let disabled = named("dev", 0);
    let runtime_off = [named("dev", 3), named("staging", 1), named("prod", 5)];
    let eks_audit_off = named("dev", 4);
    let rds_off = named("staging", 0);
    regions
        .iter()
        .enumerate()
        .map(|(r, region)| {
            let rows = accounts
                .iter()
                .enumerate()
                .filter(|(i, _)| !(Some(*i) == not_member && r == last && r > 0))
                .map(|(i, account)| {
                    let administrator = i == 0;
                    let mut off: Vec<&str> = Vec::new();
                    if runtime_off.contains(&Some(i)) {
                        off.push("RUNTIME_MONITORING");
                    }
                    if Some(i) == eks_audit_off {
                        off.push("EKS_AUDIT_LOGS");
                    }
                    if Some(i) == rds_off && r == 0 {
                        off.push("RDS_LOGIN_EVENTS");
                    }
                    if administrator && r == last && r > 0 {
                        off.push("LAMBDA_NETWORK_LOGS");
                    }
                    let relationship = if administrator {
                        None
                    } else if Some(i) == invited && r == 0 {
                        Some("Invited")
                    } else if Some(i) == disabled && r == 1.min(last) {
                        Some("Disabled")
                    } else {
                        Some("Enabled")
                    };
                    let detector_present = matches!(relationship, None | Some("Enabled"));
                    CoverageRow {
                        region: (*region).to_string(),
                        account_id: account.id.clone(),
                        administrator,
                        relationship_status: relationship.map(str::to_string),
                        detector_present,
                        features: if detector_present {
                            features(&off)
                        } else {
                            Vec::new()
                        },
                        checked_at: opts.now_ms,
                    }
                })
                .collect();
            RegionCoverage {
                region: (*region).to_string(),
                checked_at: opts.now_ms,
                error_code: None,
                error_message: None,
                rows,
            }
        })
        .collect()
}

/// Every plan (and the foundational sources), `off` ones disabled.
fn features(off: &[&str]) -> Vec<CoverageFeature> {
    ["CLOUD_TRAIL", "DNS_LOGS", "FLOW_LOGS"]
        .into_iter()
        .chain(PLANS)
        .map(|name| {
            let status = if off.contains(&name) {
                "DISABLED"
            } else {
                "ENABLED"
            };
            let mut f = CoverageFeature::new(name, status);
            if name == "RUNTIME_MONITORING" {
                f.additional = vec![
                    CoverageFeature::new("EKS_ADDON_MANAGEMENT", status),
                    CoverageFeature::new("ECS_FARGATE_AGENT_MANAGEMENT", status),
                    CoverageFeature::new("EC2_AGENT_MANAGEMENT", status),
                ];
            }
            f
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gdlens_domain::coverage::{CoverageState, GapKind};

    #[test]
    fn the_default_organization_has_every_kind_of_gap() {
        let opts = DemoOptions::default();
        let coverage = coverage(&opts);
        assert_eq!(coverage.len(), opts.regions);
        let rows: Vec<&CoverageRow> = coverage.iter().flat_map(|c| &c.rows).collect();
        assert_eq!(
            rows.len(),
            opts.accounts * opts.regions - 1,
            "one account not a member in one region"
        );
        let states = |s| rows.iter().filter(|r| r.state() == s).count();
        assert!(states(CoverageState::Covered) > rows.len() / 2);
        assert!(states(CoverageState::Partial) >= 4);
        assert_eq!(
            states(CoverageState::NotEnabled),
            2,
            "one invited, one disabled"
        );
        assert!(rows
            .iter()
            .any(|r| r.relationship_status.as_deref() == Some("Invited")));
        assert!(rows.iter().any(|r| r.gaps().iter().any(
            |g| g.kind == GapKind::PlanOff && g.plan.as_deref() == Some("RUNTIME_MONITORING")
        )));
        assert_eq!(coverage, super::coverage(&opts), "deterministic");
    }
}
