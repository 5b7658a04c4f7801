//! Mutations: triage, ticket links, and GuardDuty write-back (archive, unarchive, feedback).

use std::sync::Arc;

use async_graphql::{Context, Object, SimpleObject, ID};

use super::inputs::{FeedbackGql, TriageStatusGql};
use super::types::{TicketLinkGql, TriageGql};
use super::{caller, state};
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ports::TriageChange;
use crate::state::{now_ms, AppState, Change};
use crate::writeback::{detector_id_from_arn, Feedback, WriteBackTarget};

/// Most findings one mutation may touch.
pub const MAX_MUTATION_FINDINGS: usize = 5_000;

fn require(caller: &Caller, role: Role, what: &str) -> ApiResult<()> {
    let allowed = match role {
        Role::Triager => caller.role.can_triage(),
        Role::Admin => caller.role.can_write_back(),
        Role::Viewer => caller.role.can_read_findings(),
        Role::Metrics => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "{what} needs the {} role; token `{}` is {}",
            role.as_str(),
            caller.name,
            caller.role.as_str()
        )))
    }
}

/// Suppression rules act org-wide: the admin role and the all-accounts scope.
fn require_org_admin(caller: &Caller, what: &str) -> ApiResult<()> {
    require(caller, Role::Admin, what)?;
    if !matches!(*caller.scope, gdlens_domain::Scope::All) {
        return Err(ApiError::forbidden(format!(
            "{what} acts on every account; token `{}` is limited to some",
            caller.name
        )));
    }
    Ok(())
}

/// The findings a mutation targets: `findingIds` or every visible member of `groupId`, all in
/// the caller's scope. An id outside the scope reads as unknown: never confirm that it exists.
fn targets(
    st: &AppState,
    caller: &Caller,
    finding_ids: Option<Vec<ID>>,
    group_id: Option<ID>,
) -> ApiResult<Vec<String>> {
    let snap = st.snapshot();
    let ids: Vec<String> = match (finding_ids, group_id) {
        (Some(ids), None) => ids.into_iter().map(|i| i.0).collect(),
        (None, Some(g)) => {
            let unknown = || {
                ApiError::new(
                    ErrorCode::NotFound,
                    format!("argument `groupId`: unknown finding group {}", g.0),
                )
            };
            let group = snap.groups.get(&g).ok_or_else(unknown)?;
            let visible = crate::view::restrict(group, &caller.scope).ok_or_else(unknown)?;
            visible.finding_ids.clone()
        }
        _ => {
            return Err(ApiError::bad_input(
                "findingIds",
                "give exactly one of `findingIds` or `groupId`",
            ))
        }
    };
    if ids.is_empty() {
        return Err(ApiError::bad_input("findingIds", "is empty"));
    }
    if ids.len() > MAX_MUTATION_FINDINGS {
        return Err(ApiError::bad_input(
            "findingIds",
            format!("more than {MAX_MUTATION_FINDINGS} findings"),
        ));
    }
    let mut ids = ids;
    ids.sort();
    ids.dedup();
    for id in &ids {
        let visible = snap
            .index
            .row_id(id)
            .is_some_and(|row| caller.scope.allows(snap.index.account_id(row)));
        if !visible {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!("argument `findingIds`: unknown finding {id}"),
            ));
        }
    }
    Ok(ids)
}

/// Result of a write-back mutation.
#[derive(Debug, Clone, SimpleObject)]
pub struct WriteBackResult {
    /// Findings sent to GuardDuty.
    pub finding_ids: Vec<ID>,
}

/// Mutations.
pub struct Mutation;

#[Object]
impl Mutation {
    /// Saves a gdlens suppression rule (admin, all accounts): validated against GuardDuty's
    /// limits; an existing gdlens rule of the same name is replaced. Audited.
    async fn create_suppression_rule(
        &self,
        ctx: &Context<'_>,
        input: super::suppress::SuppressionRuleInput,
    ) -> async_graphql::Result<super::suppress::SuppressionRuleGql> {
        let c = caller(ctx);
        require_org_admin(c, "createSuppressionRule")?;
        Ok(super::suppress::create_rule(state(ctx), c, input).await?)
    }

    /// Deletes a gdlens suppression rule (admin, all accounts). Audited.
    async fn delete_suppression_rule(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<bool> {
        let c = caller(ctx);
        require_org_admin(c, "deleteSuppressionRule")?;
        Ok(super::suppress::delete_rule(state(ctx), c, id).await?)
    }

    /// Sets the triage status of findings (or every visible member of a group) atomically.
    /// With `expectedVersion`, a finding whose version differs is rejected (STALE_VERSION) and nothing changes.
    async fn set_triage(
        &self,
        ctx: &Context<'_>,
        finding_ids: Option<Vec<ID>>,
        group_id: Option<ID>,
        status: TriageStatusGql,
        assignee: Option<String>,
        note: Option<String>,
        expected_version: Option<i64>,
    ) -> async_graphql::Result<Vec<TriageGql>> {
        let st = state(ctx).clone();
        let c = caller(ctx);
        require(c, Role::Triager, "setTriage")?;
        if note.as_ref().is_some_and(|n| n.len() > 10_000) {
            return Err(ApiError::bad_input("note", "longer than 10,000 characters").into());
        }
        let ids = targets(&st, c, finding_ids, group_id)?;
        let change = TriageChange {
            finding_ids: ids.clone(),
            status: status.into(),
            assignee,
            note,
            expected_version,
            actor: c.actor(),
            at: now_ms(),
        };
        let records = st.with_store(move |s| s.set_triage(&change)).await?;
        let states: Vec<(String, gdlens_domain::TriageStatus)> = records
            .iter()
            .map(|r| (r.finding_id.clone(), r.status))
            .collect();
        st.write(Change::Triage(&states));
        Ok(records
            .iter()
            .map(|r| TriageGql::from_record(&r.finding_id, Some(r)))
            .collect())
    }

    /// Links a ticket to findings (or a group's visible members). Idempotent: the same link twice is one link.
    async fn link_ticket(
        &self,
        ctx: &Context<'_>,
        finding_ids: Option<Vec<ID>>,
        group_id: Option<ID>,
        system: String,
        key: String,
        url: Option<String>,
    ) -> async_graphql::Result<Vec<TicketLinkGql>> {
        let st = state(ctx).clone();
        let c = caller(ctx);
        require(c, Role::Triager, "linkTicket")?;
        for (arg, v, max) in [("system", &system, 64usize), ("key", &key, 256)] {
            if v.trim().is_empty() || v.len() > max {
                return Err(ApiError::bad_input(arg, format!("must be 1–{max} characters")).into());
            }
        }
        if let Some(u) = &url {
            if !(u.starts_with("https://") || u.starts_with("http://")) || u.len() > 2048 {
                return Err(ApiError::bad_input(
                    "url",
                    "must be an http(s) URL of at most 2048 characters",
                )
                .into());
            }
        }
        let ids = targets(&st, c, finding_ids, group_id)?;
        let actor = c.actor();
        let at = now_ms();
        let links = st
            .with_store(move |s| s.link_ticket(&ids, &system, &key, url.as_deref(), &actor, at))
            .await?;
        st.bump();
        Ok(links.iter().map(TicketLinkGql::from).collect())
    }

    /// Archives findings in GuardDuty (admin; needs AWS write-back).
    async fn archive_findings(
        &self,
        ctx: &Context<'_>,
        finding_ids: Vec<ID>,
    ) -> async_graphql::Result<WriteBackResult> {
        write_back(ctx, finding_ids, Action::Archive).await
    }

    /// Unarchives findings in GuardDuty (admin; needs AWS write-back).
    async fn unarchive_findings(
        &self,
        ctx: &Context<'_>,
        finding_ids: Vec<ID>,
    ) -> async_graphql::Result<WriteBackResult> {
        write_back(ctx, finding_ids, Action::Unarchive).await
    }

    /// Sends USEFUL / NOT_USEFUL feedback to GuardDuty (admin; needs AWS write-back).
    async fn send_feedback(
        &self,
        ctx: &Context<'_>,
        finding_ids: Vec<ID>,
        feedback: FeedbackGql,
        comment: Option<String>,
    ) -> async_graphql::Result<WriteBackResult> {
        let fb = match feedback {
            FeedbackGql::Useful => Feedback::Useful,
            FeedbackGql::NotUseful => Feedback::NotUseful,
        };
        write_back(ctx, finding_ids, Action::Feedback(fb, comment)).await
    }
}

enum Action {
    Archive,
    Unarchive,
    Feedback(Feedback, Option<String>),
}

async fn write_back(
    ctx: &Context<'_>,
    finding_ids: Vec<ID>,
    action: Action,
) -> async_graphql::Result<WriteBackResult> {
    let st: Arc<AppState> = state(ctx).clone();
    let c = caller(ctx);
    require(c, Role::Admin, "GuardDuty write-back")?;
    let Some(wb) = st.write_back.clone() else {
        return Err(ApiError::new(
            ErrorCode::NotConfigured,
            "AWS write-back is not configured on this server",
        )
        .into());
    };
    let ids = targets(&st, c, Some(finding_ids), None)?;
    let ids2 = ids.clone();
    let found = st.with_store(move |s| s.findings(&ids2)).await?;
    let mut list = Vec::with_capacity(ids.len());
    for f in ids.iter().filter_map(|id| found.get(id)) {
        let detector = f
            .detector_id
            .clone()
            .or_else(|| detector_id_from_arn(&f.arn).map(str::to_string));
        let Some(detector_id) = detector else {
            return Err(ApiError::bad_input(
                "findingIds",
                format!("finding {} did not come from AWS (no detector id)", f.id),
            )
            .into());
        };
        list.push(WriteBackTarget {
            finding_id: f.id.clone(),
            region: f.region.clone(),
            detector_id,
            account_id: f.account_id.clone(),
        });
    }
    let (name, result) = match &action {
        Action::Archive => ("archive", wb.archive(&list).await),
        Action::Unarchive => ("unarchive", wb.unarchive(&list).await),
        Action::Feedback(fb, comment) => (
            "feedback",
            wb.feedback(&list, *fb, comment.as_deref()).await,
        ),
    };
    if let Err(e) = result {
        tracing::error!(action = name, error = %e, findings = list.len(), "GuardDuty write-back failed");
        return Err(ApiError::new(
            ErrorCode::UpstreamError,
            format!("GuardDuty {name} failed; nothing was changed"),
        )
        .into());
    }
    let actor = c.actor();
    let detail = match &action {
        Action::Feedback(fb, _) => format!("{{\"feedback\":\"{fb:?}\"}}"),
        _ => "{}".to_string(),
    };
    let ids2 = ids.clone();
    st.with_store(move |s| s.append_audit(&ids2, &actor, name, &detail, now_ms()))
        .await
        .inspect_err(
            |e| tracing::error!(error = %e.message, "write-back done but audit not recorded"),
        )?;
    Ok(WriteBackResult {
        finding_ids: ids.into_iter().map(ID).collect(),
    })
}
