//! Bodies: a CloudEvents 1.0 event, or the shape Slack, Jira and ServiceNow take in.

use gdlens_domain::time::EpochMillis;
use serde_json::{json, Value};

use super::config::{WebhookConfig, WebhookFormat};

/// What an event says, before it takes a format's shape.
#[derive(Debug, Clone)]
pub(crate) struct EventView<'a> {
    /// The webhook id (CloudEvents `id`).
    pub message_id: &'a str,
    /// `finding.created`, …
    pub kind: &'a str,
    /// Finding or group id.
    pub subject: &'a str,
    /// When it happened.
    pub at: EpochMillis,
    /// The event's data (the finding, the group, the triage change).
    pub data: Value,
    /// One line for people.
    pub summary: String,
    /// Severity (numeric, GuardDuty scale) when known.
    pub severity: Option<f64>,
}

fn rfc3339(ms: EpochMillis) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The body for `hook` and the `Content-Type` it goes with.
pub(crate) fn body(hook: &WebhookConfig, source: &str, ev: &EventView<'_>) -> Value {
    match hook.format {
        WebhookFormat::Cloudevents => json!({
            "specversion": "1.0",
            "id": ev.message_id,
            "source": source,
            "type": format!("com.gdlens.{}", ev.kind),
            "time": rfc3339(ev.at),
            "subject": ev.subject,
            "datacontenttype": "application/json",
            "data": ev.data,
        }),
        WebhookFormat::Slack => json!({
            "text": format!("gdlens {}: {}", ev.kind, ev.summary),
            "blocks": [{
                "type": "section",
                "text": {"type": "mrkdwn", "text": format!("*gdlens {}*\n{}\n`{}`", ev.kind, ev.summary, ev.subject)}
            }],
        }),
        WebhookFormat::Jira => json!({
            "fields": {
                "project": {"key": hook.jira_project.as_deref().unwrap_or_default()},
                "issuetype": {"name": hook.jira_issue_type.as_deref().unwrap_or("Task")},
                "summary": truncate(&ev.summary, 250),
                "labels": ["gdlens", ev.kind.replace('.', "-")],
                "description": {
                    "type": "doc",
                    "version": 1,
                    "content": [{
                        "type": "paragraph",
                        "content": [{"type": "text", "text": format!("{} ({}): {}", ev.kind, ev.subject, ev.summary)}]
                    }, {
                        "type": "codeBlock",
                        "attrs": {"language": "json"},
                        "content": [{"type": "text", "text": serde_json::to_string_pretty(&ev.data).unwrap_or_default()}]
                    }]
                }
            }
        }),
        WebhookFormat::Servicenow => {
            let level = match ev.severity {
                Some(s) if s >= 7.0 => "1",
                Some(s) if s >= 4.0 => "2",
                _ => "3",
            };
            json!({
                "short_description": truncate(&format!("gdlens {}: {}", ev.kind, ev.summary), 160),
                "description": serde_json::to_string_pretty(&ev.data).unwrap_or_default(),
                "urgency": level,
                "impact": level,
                "category": "security",
                "correlation_id": ev.message_id,
                "correlation_display": "gdlens",
            })
        }
    }
}

/// The `Content-Type` of a format's body.
pub(crate) fn content_type(format: WebhookFormat) -> &'static str {
    match format {
        WebhookFormat::Cloudevents => "application/cloudevents+json",
        _ => "application/json",
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    s.chars()
        .take(max - 1)
        .chain(std::iter::once('…'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(format: WebhookFormat) -> WebhookConfig {
        toml::from_str::<WebhookConfig>(&format!(
            "name = \"h\"\nurl = \"https://x\"\nsecret_env = \"S\"\nevents = [\"finding.created\"]\nformat = \"{}\"\njira_project = \"SEC\"",
            format.as_str()
        ))
        .unwrap()
    }

    fn view() -> EventView<'static> {
        EventView {
            message_id: "msg_1_h",
            kind: "finding.created",
            subject: "f1",
            at: 1_700_000_000_000,
            data: json!({"id": "f1"}),
            summary: "Port probe".into(),
            severity: Some(8.0),
        }
    }

    #[test]
    fn every_format_has_its_receivers_shape() {
        let ce = body(&hook(WebhookFormat::Cloudevents), "gdlens", &view());
        assert_eq!(ce["specversion"], "1.0");
        assert_eq!(ce["id"], "msg_1_h");
        assert_eq!(ce["type"], "com.gdlens.finding.created");
        assert_eq!(ce["time"], "2023-11-14T22:13:20.000Z");
        let slack = body(&hook(WebhookFormat::Slack), "gdlens", &view());
        assert!(slack["text"].as_str().unwrap().contains("Port probe"));
        let jira = body(&hook(WebhookFormat::Jira), "gdlens", &view());
        assert_eq!(jira["fields"]["project"]["key"], "SEC");
        assert_eq!(jira["fields"]["description"]["type"], "doc");
        let snow = body(&hook(WebhookFormat::Servicenow), "gdlens", &view());
        assert_eq!(
            (snow["urgency"].as_str(), snow["impact"].as_str()),
            (Some("1"), Some("1"))
        );
    }
}
