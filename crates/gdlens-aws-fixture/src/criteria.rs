//! `findingCriteria` and `sortCriteria` of ListFindings / GetFindingsStatistics, evaluated over
//! the finding JSON. Field names are GuardDuty's dotted paths (`service.archived`,
//! `resource.resourceType`, …). Time fields compare in epoch milliseconds, booleans as strings.

use std::cmp::Ordering;

use serde_json::Value;

use crate::error::AwsError;

/// One comparison on one field.
#[derive(Debug, Clone, PartialEq)]
enum Check {
    Equals(Vec<String>),
    NotEquals(Vec<String>),
    Greater(f64),
    GreaterOrEqual(f64),
    Less(f64),
    LessOrEqual(f64),
}

/// Parsed `findingCriteria`: every check must hold (AND), as in GuardDuty.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Criteria {
    checks: Vec<(String, Check)>,
}

fn strings(v: &Value, field: &str, op: &str) -> Result<Vec<String>, AwsError> {
    let list = v.as_array().ok_or_else(|| {
        AwsError::bad_request(format!("findingCriteria.{field}.{op} must be a list"))
    })?;
    Ok(list
        .iter()
        .map(|x| match x {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect())
}

fn number(v: &Value, field: &str, op: &str) -> Result<f64, AwsError> {
    v.as_f64().ok_or_else(|| {
        AwsError::bad_request(format!("findingCriteria.{field}.{op} must be a number"))
    })
}

impl Criteria {
    /// Parses the `findingCriteria` object (absent or null: no filtering).
    pub fn parse(v: Option<&Value>) -> Result<Self, AwsError> {
        let mut checks = Vec::new();
        let Some(criteria) = v.filter(|v| !v.is_null()) else {
            return Ok(Self { checks });
        };
        let Some(criterion) = criteria.get("criterion") else {
            return Ok(Self { checks });
        };
        let criterion = criterion
            .as_object()
            .ok_or_else(|| AwsError::bad_request("findingCriteria.criterion must be an object"))?;
        for (field, condition) in criterion {
            let condition = condition.as_object().ok_or_else(|| {
                AwsError::bad_request(format!(
                    "findingCriteria.criterion.{field} must be an object"
                ))
            })?;
            for (op, value) in condition {
                let check = match op.as_str() {
                    "equals" | "eq" => Check::Equals(strings(value, field, op)?),
                    "notEquals" | "neq" => Check::NotEquals(strings(value, field, op)?),
                    "greaterThan" | "gt" => Check::Greater(number(value, field, op)?),
                    "greaterThanOrEqual" | "gte" => {
                        Check::GreaterOrEqual(number(value, field, op)?)
                    }
                    "lessThan" | "lt" => Check::Less(number(value, field, op)?),
                    "lessThanOrEqual" | "lte" => Check::LessOrEqual(number(value, field, op)?),
                    other => {
                        return Err(AwsError::bad_request(format!(
                            "findingCriteria.criterion.{field}: unsupported operator `{other}`"
                        )))
                    }
                };
                checks.push((field.clone(), check));
            }
        }
        Ok(Self { checks })
    }

    /// Whether the finding matches every check.
    pub fn matches(&self, finding: &Value) -> bool {
        self.checks.iter().all(|(field, check)| {
            let values = field_values(finding, field);
            match check {
                Check::Equals(wanted) => values.iter().any(|v| wanted.iter().any(|w| same(v, w))),
                Check::NotEquals(unwanted) => {
                    !values.iter().any(|v| unwanted.iter().any(|w| same(v, w)))
                }
                Check::Greater(x) => numbers(field, &values).any(|n| n > *x),
                Check::GreaterOrEqual(x) => numbers(field, &values).any(|n| n >= *x),
                Check::Less(x) => numbers(field, &values).any(|n| n < *x),
                Check::LessOrEqual(x) => numbers(field, &values).any(|n| n <= *x),
            }
        })
    }
}

/// A field's value in comparable form: strings, numbers, booleans as `"true"`/`"false"`.
/// Arrays on the way (e.g. `resource.instanceDetails.networkInterfaces`) fan out.
pub fn field_values(finding: &Value, field: &str) -> Vec<String> {
    let mut current = vec![finding];
    for name in field.split('.') {
        let mut next = Vec::new();
        for v in current {
            match v.get(name) {
                Some(Value::Array(items)) => next.extend(items.iter()),
                Some(x) => next.push(x),
                None => {}
            }
        }
        current = next;
    }
    current
        .into_iter()
        .filter_map(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .collect()
}

fn is_time_field(field: &str) -> bool {
    field.ends_with("At") || field.ends_with("Seen") || field.ends_with("Time")
}

/// Numeric view: times (ISO strings) as epoch ms, other numbers as they are.
fn as_number(field: &str, v: &str) -> Option<f64> {
    if is_time_field(field) {
        if let Some(ms) = parse_time_ms(v) {
            return Some(ms as f64);
        }
    }
    v.parse::<f64>().ok()
}

fn numbers<'a>(field: &'a str, values: &'a [String]) -> impl Iterator<Item = f64> + 'a {
    values.iter().filter_map(move |v| as_number(field, v))
}

fn same(value: &str, wanted: &str) -> bool {
    if value == wanted {
        return true;
    }
    match (value.parse::<f64>(), wanted.parse::<f64>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => value.eq_ignore_ascii_case(wanted) && (value == "true" || value == "false"),
    }
}

/// Parses an ISO-8601 time to epoch ms.
pub fn parse_time_ms(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.timestamp_millis())
}

/// Orders two findings by `attributeName` (numbers and times numerically), then by id.
pub fn compare(a: &Value, b: &Value, attribute: &str) -> Ordering {
    let key = |v: &Value| {
        let values = field_values(v, attribute);
        let first = values.into_iter().next();
        let number = first.as_deref().and_then(|s| as_number(attribute, s));
        (number, first)
    };
    let (na, sa) = key(a);
    let (nb, sb) = key(b);
    let primary = match (na, nb) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => sa.cmp(&sb),
    };
    primary.then_with(|| {
        let id = |v: &Value| {
            v.get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        id(a).cmp(&id(b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn finding() -> Value {
        json!({"id":"f1","accountId":"111122223333","type":"Recon:EC2/PortProbeUnprotectedPort",
               "severity":8.0,"updatedAt":"2024-01-01T00:00:10.500Z",
               "service":{"archived":false},"resource":{"resourceType":"Instance"}})
    }

    fn crit(v: Value) -> Criteria {
        Criteria::parse(Some(&json!({ "criterion": v }))).unwrap()
    }

    #[test]
    fn time_fields_compare_in_epoch_millis() {
        let t = parse_time_ms("2024-01-01T00:00:10.500Z").unwrap();
        assert!(crit(json!({"updatedAt":{"greaterThan": t - 1}})).matches(&finding()));
        assert!(!crit(json!({"updatedAt":{"greaterThan": t}})).matches(&finding()));
        assert!(crit(json!({"updatedAt":{"greaterThanOrEqual": t}})).matches(&finding()));
        assert!(!crit(json!({"updatedAt":{"lessThan": t}})).matches(&finding()));
    }

    #[test]
    fn booleans_and_numbers_compare_as_strings() {
        assert!(crit(json!({"service.archived":{"equals":["false"]}})).matches(&finding()));
        assert!(!crit(json!({"service.archived":{"equals":["true"]}})).matches(&finding()));
        assert!(crit(json!({"severity":{"equals":["8"]}})).matches(&finding()));
        assert!(crit(json!({"severity":{"greaterThanOrEqual": 7}})).matches(&finding()));
        assert!(crit(json!({"accountId":{"notEquals":["999999999999"]}})).matches(&finding()));
        assert!(crit(json!({"resource.resourceType":{"equals":["Instance"]}})).matches(&finding()));
    }

    #[test]
    fn unknown_operator_is_a_bad_request() {
        let err = Criteria::parse(Some(&json!({"criterion":{"id":{"like":["x"]}}}))).unwrap_err();
        assert_eq!(err.code, "BadRequestException");
        assert!(err.message.contains("like"));
    }
}
