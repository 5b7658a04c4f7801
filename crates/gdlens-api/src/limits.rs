//! What one GraphQL request may take: aliases, root fields, complexity (list fields cost by
//! their `first` / `limit`), depth, CPU time and response bytes. Each refusal has its own
//! `extensions.code`, decided from numbers, never from an error message's text.
//!
//! Aliases and root fields are counted on the parsed document before validation (a cheap walk);
//! complexity and depth come from async-graphql's own validation pass; the CPU budget is a
//! deadline that blocking resolver work checks between steps ([`RequestBudget::check`]), and that
//! cancels it when the request is dropped (timeout or disconnect).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, ValidationResult, Variables};

use crate::error::{ApiError, ErrorCode};

/// The limits of one request (from `[server]`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most aliased fields in a document.
    pub max_aliases: usize,
    /// Most fields at the root of the executed operation.
    pub max_root_fields: usize,
    /// Most complexity (see the `complexity` attributes of the list fields).
    pub max_complexity: usize,
    /// Most nesting depth.
    pub max_depth: usize,
}

/// The async-graphql extension that enforces [`Limits`].
pub struct RequestLimits(pub Limits);

impl ExtensionFactory for RequestLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(LimitsExtension(self.0))
    }
}

struct LimitsExtension(Limits);

fn refuse(code: ErrorCode, message: String) -> ServerError {
    let mut e = ServerError::new(message, None);
    e.extensions
        .get_or_insert_with(Default::default)
        .set("code", code.as_str());
    e
}

#[async_trait::async_trait]
impl Extension for LimitsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let counts = count_document(&doc);
        if counts.aliases > self.0.max_aliases {
            return Err(refuse(
                ErrorCode::TooManyAliases,
                format!(
                    "the document has {} aliased fields; at most {} are allowed",
                    counts.aliases, self.0.max_aliases
                ),
            ));
        }
        if counts.max_root_fields > self.0.max_root_fields {
            return Err(refuse(
                ErrorCode::TooManyRootFields,
                format!(
                    "an operation selects {} root fields; at most {} are allowed",
                    counts.max_root_fields, self.0.max_root_fields
                ),
            ));
        }
        Ok(doc)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|mut e| {
                    if e.extensions
                        .as_ref()
                        .is_none_or(|x| x.get("code").is_none())
                    {
                        e.extensions
                            .get_or_insert_with(Default::default)
                            .set("code", ErrorCode::GraphqlValidationFailed.as_str());
                    }
                    e
                })
                .collect::<Vec<_>>()
        })?;
        if result.complexity > self.0.max_complexity {
            return Err(vec![refuse(
                ErrorCode::QueryTooComplex,
                format!(
                    "query complexity {} is above the limit {} (list fields cost by their `first` or `limit`)",
                    result.complexity, self.0.max_complexity
                ),
            )]);
        }
        if result.depth > self.0.max_depth {
            return Err(vec![refuse(
                ErrorCode::QueryTooDeep,
                format!(
                    "query depth {} is above the limit {}",
                    result.depth, self.0.max_depth
                ),
            )]);
        }
        Ok(result)
    }
}

/// Aliases in the whole document and the largest root selection of any operation.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DocumentCounts {
    /// Aliased fields (each alias makes a resolver run again).
    pub aliases: usize,
    /// The most root fields any operation selects (fragments expanded).
    pub max_root_fields: usize,
}

/// Counts aliases and root fields. Fragments are followed once each (cycles are refused later by
/// validation; here they just stop the walk).
pub fn count_document(doc: &ExecutableDocument) -> DocumentCounts {
    let mut counts = DocumentCounts::default();
    for (_, fragment) in doc.fragments.iter() {
        counts.aliases += aliases_in(&fragment.node.selection_set.node);
    }
    for (_, op) in doc.operations.iter() {
        let set = &op.node.selection_set.node;
        counts.aliases += aliases_in(set);
        let mut seen = HashSet::new();
        let roots = root_fields(doc, set, &mut seen);
        counts.max_root_fields = counts.max_root_fields.max(roots);
    }
    counts
}

fn aliases_in(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|s| match &s.node {
            Selection::Field(f) => {
                usize::from(f.node.alias.is_some()) + aliases_in(&f.node.selection_set.node)
            }
            Selection::InlineFragment(i) => aliases_in(&i.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

fn root_fields<'a>(
    doc: &'a ExecutableDocument,
    set: &'a SelectionSet,
    seen: &mut HashSet<&'a str>,
) -> usize {
    set.items
        .iter()
        .map(|s| match &s.node {
            Selection::Field(_) => 1,
            Selection::InlineFragment(i) => root_fields(doc, &i.node.selection_set.node, seen),
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                match doc.fragments.get(&spread.node.fragment_name.node) {
                    Some(f) if seen.insert(name) => {
                        root_fields(doc, &f.node.selection_set.node, seen)
                    }
                    _ => 0,
                }
            }
        })
        .sum()
}

/// The CPU budget of one request: a deadline, and a flag set when the request is dropped.
#[derive(Debug)]
pub struct RequestBudget {
    deadline: Instant,
    cancelled: AtomicBool,
}

impl RequestBudget {
    /// A budget of `limit` from now.
    pub fn new(limit: Duration) -> Arc<Self> {
        Arc::new(RequestBudget {
            deadline: Instant::now() + limit,
            cancelled: AtomicBool::new(false),
        })
    }

    /// A budget that never runs out (internal callers, tests).
    pub fn unlimited() -> Arc<Self> {
        RequestBudget::new(Duration::from_secs(365 * 24 * 3600))
    }

    /// `Err(BUDGET_EXCEEDED)` once the deadline passed or the request was dropped: long
    /// resolver work calls this between steps and stops.
    pub fn check(&self) -> Result<(), ApiError> {
        if self.cancelled.load(Ordering::Relaxed) || Instant::now() >= self.deadline {
            return Err(ApiError::new(
                ErrorCode::BudgetExceeded,
                "the request used up its CPU budget and was stopped; narrow the filter or ask for fewer fields",
            ));
        }
        Ok(())
    }

    /// Marks the request gone: pending and running work stops at its next check.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }
}

/// Cancels the budget when dropped (the request's future was dropped: timeout or disconnect).
pub struct CancelOnDrop(pub Arc<RequestBudget>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(q: &str) -> DocumentCounts {
        count_document(&async_graphql::parser::parse_query(q).unwrap())
    }

    #[test]
    fn counts_aliases_and_root_fields_through_fragments() {
        assert_eq!(
            counts("{ a: viewer { name } b: viewer { n: name } summary { total } }"),
            DocumentCounts {
                aliases: 3,
                max_root_fields: 3
            }
        );
        let q = "query { ...F ... on Query { viewer { name } } } fragment F on Query { x: viewer { name } y: viewer { name } }";
        assert_eq!(
            counts(q),
            DocumentCounts {
                aliases: 2,
                max_root_fields: 3
            }
        );
        // A fragment cycle does not loop.
        let q = "query { ...F } fragment F on Query { viewer { name } ...F }";
        assert_eq!(counts(q).max_root_fields, 1);
    }

    #[test]
    fn budget_runs_out_and_cancels() {
        let b = RequestBudget::new(Duration::from_secs(60));
        assert!(b.check().is_ok());
        {
            let _guard = CancelOnDrop(b.clone());
        }
        assert_eq!(b.check().unwrap_err().code, ErrorCode::BudgetExceeded);
        let expired = RequestBudget::new(Duration::ZERO);
        assert!(expired.check().is_err());
    }
}
