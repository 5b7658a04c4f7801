//! Detective: ListGraphs → ListInvestigations → GetInvestigation → ListIndicators, stored per
//! region. Investigations and indicators have no SDK paginator: NextToken loops by hand.
//! Indicators are kept as the raw PascalCase JSON Detective sent (captured from the body).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{AwsError, ErrorCode};
use crate::sink::{Investigation, SyncSink};
use crate::source::AwsSource;
use crate::transport::BodyCapture;

/// Detective outcome of one region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DetectiveRegionReport {
    pub region: String,
    pub graphs: u64,
    pub investigations: u64,
    pub indicators: u64,
    pub error: Option<AwsError>,
}

fn millis(t: Option<&aws_smithy_types::DateTime>) -> Option<i64> {
    t.and_then(|t| t.to_millis().ok())
}

/// Next token, unless empty or the same as the one just used (a server loop).
fn advance(next: Option<&str>, current: &Option<String>) -> Option<String> {
    next.filter(|t| !t.is_empty() && Some(*t) != current.as_deref())
        .map(str::to_string)
}

impl AwsSource {
    /// Syncs Detective investigations of every configured region (or `regions`), one region at a
    /// time (Detective volumes are small), replacing each region's stored set on success.
    pub async fn sync_investigations(
        &self,
        sink: Arc<dyn SyncSink>,
        regions: Option<&[String]>,
    ) -> Vec<DetectiveRegionReport> {
        let regions: Vec<String> = regions
            .map(<[String]>::to_vec)
            .unwrap_or_else(|| self.config().regions.clone());
        let mut reports = Vec::new();
        for region in regions {
            let mut report = DetectiveRegionReport {
                region: region.clone(),
                graphs: 0,
                investigations: 0,
                indicators: 0,
                error: None,
            };
            match self.investigations_of(&region, &mut report).await {
                Ok(list) => {
                    let sink = sink.clone();
                    let r = region.clone();
                    let stored = tokio::task::spawn_blocking(move || {
                        sink.replace_investigations(std::slice::from_ref(&r), &list)
                    })
                    .await;
                    match stored {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => {
                            report.error = Some(AwsError::new(
                                ErrorCode::Store,
                                format!("store: {}", e.code),
                            ))
                        }
                        Err(e) => {
                            report.error = Some(AwsError::new(
                                ErrorCode::Store,
                                format!("store task failed: {e}"),
                            ))
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(region, code = e.code.as_str(), "Detective not synced");
                    report.error = Some(e);
                }
            }
            reports.push(report);
        }
        reports
    }

    async fn investigations_of(
        &self,
        region: &str,
        report: &mut DetectiveRegionReport,
    ) -> Result<Vec<Investigation>, AwsError> {
        let client = self.detective(region);
        let mut graphs = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .call("ListGraphs", region, || {
                    client.list_graphs().set_next_token(token.clone()).send()
                })
                .await?;
            graphs.extend(
                out.graph_list()
                    .iter()
                    .filter_map(|g| g.arn().map(str::to_string)),
            );
            match advance(out.next_token(), &token) {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        report.graphs = graphs.len() as u64;
        let mut all = Vec::new();
        for graph in &graphs {
            let mut ids = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let out = self
                    .call("ListInvestigations", region, || {
                        client
                            .list_investigations()
                            .graph_arn(graph)
                            .max_results(100)
                            .set_next_token(token.clone())
                            .send()
                    })
                    .await?;
                ids.extend(
                    out.investigation_details()
                        .iter()
                        .filter_map(|d| d.investigation_id().map(str::to_string)),
                );
                match advance(out.next_token(), &token) {
                    Some(t) => token = Some(t),
                    None => break,
                }
            }
            for id in ids {
                let inv = self
                    .call("GetInvestigation", region, || {
                        client
                            .get_investigation()
                            .graph_arn(graph)
                            .investigation_id(&id)
                            .send()
                    })
                    .await?;
                let indicators = self.indicators(region, graph, &id).await?;
                report.indicators += indicators.len() as u64;
                let mut related_finding_arns = Vec::new();
                let mut related_finding_group_ids = Vec::new();
                for ind in &indicators {
                    let detail = ind.get("IndicatorDetail");
                    if let Some(arn) = detail
                        .and_then(|d| d.pointer("/RelatedFindingDetail/Arn"))
                        .and_then(Value::as_str)
                    {
                        related_finding_arns.push(arn.to_string());
                    }
                    if let Some(gid) = detail
                        .and_then(|d| d.pointer("/RelatedFindingGroupDetail/Id"))
                        .and_then(Value::as_str)
                    {
                        related_finding_group_ids.push(gid.to_string());
                    }
                }
                all.push(Investigation {
                    region: region.to_string(),
                    graph_arn: graph.clone(),
                    investigation_id: id.clone(),
                    entity_arn: inv.entity_arn().map(str::to_string),
                    entity_type: inv.entity_type().map(|e| e.as_str().to_string()),
                    status: inv.status().map(|s| s.as_str().to_string()),
                    severity: inv.severity().map(|s| s.as_str().to_string()),
                    state: inv.state().map(|s| s.as_str().to_string()),
                    created_at: millis(inv.created_time()),
                    scope_start: millis(inv.scope_start_time()),
                    scope_end: millis(inv.scope_end_time()),
                    indicators,
                    related_finding_arns,
                    related_finding_group_ids,
                });
            }
        }
        report.investigations = all.len() as u64;
        Ok(all)
    }

    async fn indicators(
        &self,
        region: &str,
        graph: &str,
        id: &str,
    ) -> Result<Vec<Value>, AwsError> {
        let client = self.detective(region);
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let (page, body) = self
                .call("ListIndicators", region, || {
                    let capture = BodyCapture::default();
                    let request = client
                        .list_indicators()
                        .graph_arn(graph)
                        .investigation_id(id)
                        .max_results(100)
                        .set_next_token(token.clone())
                        .customize()
                        .interceptor(capture.clone())
                        .send();
                    async move { request.await.map(|o| (o, capture.take())) }
                })
                .await?;
            let raw: Value = body
                .as_deref()
                .and_then(|b| serde_json::from_slice(b).ok())
                .ok_or_else(|| {
                    AwsError::new(
                        ErrorCode::InvalidResponse,
                        "ListIndicators: reply body not readable",
                    )
                })?;
            if let Some(list) = raw.get("Indicators").and_then(Value::as_array) {
                out.extend(list.iter().cloned());
            }
            match advance(page.next_token(), &token) {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        Ok(out)
    }
}
