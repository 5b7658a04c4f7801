//! GuardDuty `FindingCriteria`, parsed, validated against GuardDuty's limits and evaluated over
//! a finding's GuardDuty JSON the way GuardDuty evaluates a filter.
//!
//! Semantics (docs/suppression.md):
//! - every attribute must hold (AND); several operators on one attribute must all hold (a range);
//! - an attribute path walks the finding JSON by dotted names; arrays on the way fan out, so
//!   `resource.instanceDetails.tags.value` is every tag value of the instance;
//! - `equals` holds when any value at the path equals any listed value; `notEquals` when none
//!   does (a finding without the attribute passes `notEquals`);
//! - `matches` / `notMatches`: the same with wildcards `*` (any run) and `?` (one character);
//! - `greaterThan`… compare numbers; time attributes (`updatedAt`, `createdAt`,
//!   `service.eventFirstSeen`, `service.eventLastSeen`) compare in epoch milliseconds;
//! - booleans compare as the strings `"true"`/`"false"`, numbers numerically (`"8"` equals 8.0).

use std::collections::BTreeMap;

use gdlens_domain::time::parse_iso;
use serde_json::{Map, Value};

/// Most attributes one filter may name (GuardDuty's limit).
pub const MAX_ATTRIBUTES: usize = 50;
/// Most values in one `equals`/`notEquals`/`matches`/`notMatches` list (GuardDuty's limit).
pub const MAX_VALUES: usize = 50;
/// Most filters per detector, i.e. per account and region (GuardDuty's limit, cannot be raised).
pub const MAX_FILTERS_PER_REGION: usize = 100;

/// Why a `findingCriteria` is not valid. Each variant has a stable code ([`CriteriaError::code`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CriteriaError {
    /// The criteria (or `criterion`, or one attribute's condition) is not a JSON object.
    #[error("{0} must be a JSON object")]
    NotAnObject(String),
    /// No attribute at all: a filter that archives everything is never what anyone means.
    #[error("findingCriteria.criterion names no attribute")]
    Empty,
    /// An attribute path that is empty or has an empty segment.
    #[error("attribute path `{0}` is not a dotted path of names")]
    BadAttribute(String),
    /// An operator GuardDuty does not know.
    #[error("attribute `{attribute}`: unknown operator `{operator}`")]
    UnknownOperator {
        /// The attribute.
        attribute: String,
        /// The operator as written.
        operator: String,
    },
    /// An attribute with no operator.
    #[error("attribute `{0}` has no condition")]
    EmptyCondition(String),
    /// A list operator whose value is not a non-empty list of strings or numbers.
    #[error("attribute `{attribute}`: `{operator}` must be a non-empty list of strings")]
    BadList {
        /// The attribute.
        attribute: String,
        /// The operator.
        operator: String,
    },
    /// A comparison whose value is not a number (time attributes: epoch milliseconds).
    #[error("attribute `{attribute}`: `{operator}` must be a number")]
    BadNumber {
        /// The attribute.
        attribute: String,
        /// The operator.
        operator: String,
    },
    /// More attributes than GuardDuty allows in one filter.
    #[error("{0} attributes: a filter may name at most {MAX_ATTRIBUTES}")]
    TooManyAttributes(usize),
    /// A list longer than GuardDuty allows.
    #[error("attribute `{attribute}`: {count} values, at most {MAX_VALUES} per list")]
    TooManyValues {
        /// The attribute.
        attribute: String,
        /// How many values it listed.
        count: usize,
    },
}

impl CriteriaError {
    /// Stable code (what the GraphQL `extensions.criteriaCode` and the CLI print).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAnObject(_) => "CRITERIA_NOT_AN_OBJECT",
            Self::Empty => "CRITERIA_EMPTY",
            Self::BadAttribute(_) => "CRITERIA_BAD_ATTRIBUTE",
            Self::UnknownOperator { .. } => "CRITERIA_UNKNOWN_OPERATOR",
            Self::EmptyCondition(_) => "CRITERIA_EMPTY_CONDITION",
            Self::BadList { .. } => "CRITERIA_BAD_LIST",
            Self::BadNumber { .. } => "CRITERIA_BAD_NUMBER",
            Self::TooManyAttributes(_) => "CRITERIA_TOO_MANY_ATTRIBUTES",
            Self::TooManyValues { .. } => "CRITERIA_TOO_MANY_VALUES",
        }
    }
}

/// One operator and its operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Operator {
    /// `equals` (older `eq`).
    Equals(Vec<String>),
    /// `notEquals` (older `neq`).
    NotEquals(Vec<String>),
    /// `matches`: wildcard patterns.
    Matches(Vec<String>),
    /// `notMatches`: wildcard patterns.
    NotMatches(Vec<String>),
    /// `greaterThan` (older `gt`).
    GreaterThan(f64),
    /// `greaterThanOrEqual` (older `gte`).
    GreaterThanOrEqual(f64),
    /// `lessThan` (older `lt`).
    LessThan(f64),
    /// `lessThanOrEqual` (older `lte`).
    LessThanOrEqual(f64),
}

impl Operator {
    /// The current wire name (`equals`, `greaterThan`, …).
    pub fn wire_name(&self) -> &'static str {
        match self {
            Self::Equals(_) => "equals",
            Self::NotEquals(_) => "notEquals",
            Self::Matches(_) => "matches",
            Self::NotMatches(_) => "notMatches",
            Self::GreaterThan(_) => "greaterThan",
            Self::GreaterThanOrEqual(_) => "greaterThanOrEqual",
            Self::LessThan(_) => "lessThan",
            Self::LessThanOrEqual(_) => "lessThanOrEqual",
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Self::Equals(v) | Self::NotEquals(v) | Self::Matches(v) | Self::NotMatches(v) => {
                Value::Array(v.iter().cloned().map(Value::String).collect())
            }
            Self::GreaterThan(x)
            | Self::GreaterThanOrEqual(x)
            | Self::LessThan(x)
            | Self::LessThanOrEqual(x) => number_json(*x),
        }
    }
}

fn number_json(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

/// The condition on one attribute: every operator must hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// Dotted attribute path (`type`, `resource.instanceDetails.tags.value`, …).
    pub attribute: String,
    /// Operators, in the order written.
    pub operators: Vec<Operator>,
}

/// A parsed, valid `FindingCriteria`: every condition must hold.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingCriteria {
    conditions: Vec<Condition>,
}

impl FindingCriteria {
    /// Parses `{"criterion": {attribute: {operator: operand}}}` and checks GuardDuty's limits.
    /// Older operator names (`eq`, `neq`, `gt`, `gte`, `lt`, `lte`) are read as the current ones.
    pub fn parse(criteria: &Value) -> Result<Self, CriteriaError> {
        let obj = criteria
            .as_object()
            .ok_or_else(|| CriteriaError::NotAnObject("findingCriteria".into()))?;
        let criterion = obj
            .get("criterion")
            .and_then(Value::as_object)
            .ok_or_else(|| CriteriaError::NotAnObject("findingCriteria.criterion".into()))?;
        if criterion.is_empty() {
            return Err(CriteriaError::Empty);
        }
        if criterion.len() > MAX_ATTRIBUTES {
            return Err(CriteriaError::TooManyAttributes(criterion.len()));
        }
        let mut conditions = Vec::with_capacity(criterion.len());
        for (attribute, condition) in criterion {
            if attribute.is_empty() || attribute.split('.').any(str::is_empty) {
                return Err(CriteriaError::BadAttribute(attribute.clone()));
            }
            let condition = condition.as_object().ok_or_else(|| {
                CriteriaError::NotAnObject(format!("findingCriteria.criterion.{attribute}"))
            })?;
            let operators = condition
                .iter()
                .map(|(op, operand)| operator(attribute, op, operand))
                .collect::<Result<Vec<_>, _>>()?;
            if operators.is_empty() {
                return Err(CriteriaError::EmptyCondition(attribute.clone()));
            }
            conditions.push(Condition {
                attribute: attribute.clone(),
                operators,
            });
        }
        Ok(Self { conditions })
    }

    /// Builds criteria from conditions (validated like [`FindingCriteria::parse`]).
    pub fn from_conditions(conditions: Vec<Condition>) -> Result<Self, CriteriaError> {
        Self::parse(&Self { conditions }.to_json())
    }

    /// The conditions, one per attribute.
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// The canonical GuardDuty JSON: `{"criterion": {…}}` with current operator names,
    /// attributes in sorted order (so equal criteria serialize equally).
    pub fn to_json(&self) -> Value {
        let mut criterion = BTreeMap::new();
        for c in &self.conditions {
            let mut ops = Map::new();
            for op in &c.operators {
                ops.insert(op.wire_name().to_string(), op.to_json());
            }
            criterion.insert(c.attribute.clone(), Value::Object(ops));
        }
        serde_json::json!({ "criterion": criterion })
    }

    /// Whether GuardDuty's filter with these criteria archives `finding` (GuardDuty JSON,
    /// camelCase as `GetFindings` returns it).
    pub fn matches(&self, finding: &Value) -> bool {
        self.conditions.iter().all(|c| {
            let values = attribute_values(finding, &c.attribute);
            c.operators
                .iter()
                .all(|op| holds(op, &c.attribute, &values))
        })
    }
}

fn operator(attribute: &str, op: &str, operand: &Value) -> Result<Operator, CriteriaError> {
    let list = || -> Result<Vec<String>, CriteriaError> {
        let bad = || CriteriaError::BadList {
            attribute: attribute.to_string(),
            operator: op.to_string(),
        };
        let items = operand.as_array().ok_or_else(bad)?;
        if items.is_empty() {
            return Err(bad());
        }
        if items.len() > MAX_VALUES {
            return Err(CriteriaError::TooManyValues {
                attribute: attribute.to_string(),
                count: items.len(),
            });
        }
        items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                Value::Bool(b) => Ok(b.to_string()),
                _ => Err(bad()),
            })
            .collect()
    };
    let number = || -> Result<f64, CriteriaError> {
        operand.as_f64().ok_or_else(|| CriteriaError::BadNumber {
            attribute: attribute.to_string(),
            operator: op.to_string(),
        })
    };
    Ok(match op {
        "equals" | "eq" => Operator::Equals(list()?),
        "notEquals" | "neq" => Operator::NotEquals(list()?),
        "matches" => Operator::Matches(list()?),
        "notMatches" => Operator::NotMatches(list()?),
        "greaterThan" | "gt" => Operator::GreaterThan(number()?),
        "greaterThanOrEqual" | "gte" => Operator::GreaterThanOrEqual(number()?),
        "lessThan" | "lt" => Operator::LessThan(number()?),
        "lessThanOrEqual" | "lte" => Operator::LessThanOrEqual(number()?),
        other => {
            return Err(CriteriaError::UnknownOperator {
                attribute: attribute.to_string(),
                operator: other.to_string(),
            })
        }
    })
}

fn holds(op: &Operator, attribute: &str, values: &[String]) -> bool {
    match op {
        Operator::Equals(wanted) => values.iter().any(|v| wanted.iter().any(|w| same(v, w))),
        Operator::NotEquals(unwanted) => {
            !values.iter().any(|v| unwanted.iter().any(|w| same(v, w)))
        }
        Operator::Matches(patterns) => values
            .iter()
            .any(|v| patterns.iter().any(|p| wildcard_match(p, v))),
        Operator::NotMatches(patterns) => !values
            .iter()
            .any(|v| patterns.iter().any(|p| wildcard_match(p, v))),
        Operator::GreaterThan(x) => numbers(attribute, values).any(|n| n > *x),
        Operator::GreaterThanOrEqual(x) => numbers(attribute, values).any(|n| n >= *x),
        Operator::LessThan(x) => numbers(attribute, values).any(|n| n < *x),
        Operator::LessThanOrEqual(x) => numbers(attribute, values).any(|n| n <= *x),
    }
}

/// Every value at `attribute` in `finding`, in comparable string form (strings as they are,
/// numbers in JSON form, booleans as `"true"`/`"false"`). Arrays on the way fan out.
pub fn attribute_values(finding: &Value, attribute: &str) -> Vec<String> {
    let mut current = vec![finding];
    for name in attribute.split('.') {
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
        .flat_map(|v| match v {
            // An array at the end of the path (a list of strings) fans out too.
            Value::Array(items) => items.iter().filter_map(scalar).collect::<Vec<_>>(),
            other => scalar(other).into_iter().collect(),
        })
        .collect()
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Time attributes: ISO-8601 strings in the finding, epoch milliseconds in criteria.
pub fn is_time_attribute(attribute: &str) -> bool {
    matches!(
        attribute,
        "updatedAt" | "createdAt" | "service.eventFirstSeen" | "service.eventLastSeen"
    ) || attribute.ends_with("At")
        || attribute.ends_with("Seen")
}

fn numbers<'a>(attribute: &'a str, values: &'a [String]) -> impl Iterator<Item = f64> + 'a {
    let time = is_time_attribute(attribute);
    values.iter().filter_map(move |v| {
        if time {
            if let Some(ms) = parse_iso(v) {
                return Some(ms as f64);
            }
        }
        v.parse::<f64>().ok()
    })
}

fn same(value: &str, wanted: &str) -> bool {
    if value == wanted {
        return true;
    }
    match (value.parse::<f64>(), wanted.parse::<f64>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Wildcard match over the whole value: `*` any run (also empty), `?` exactly one character.
/// Linear-time greedy matcher with one backtrack point (no regex, no blow-up).
pub fn wildcard_match(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    let (mut pi, mut vi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        // `*` first: a `*` in the value is matched by the pattern's `*`, not as a literal.
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, vi));
            pi += 1;
        } else if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if let Some((sp, sv)) = star {
            pi = sp + 1;
            vi = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn finding() -> Value {
        json!({
            "id": "f1", "accountId": "111122223333", "region": "eu-west-1",
            "type": "Recon:EC2/PortProbeUnprotectedPort", "severity": 2,
            "updatedAt": "2024-01-01T00:00:10.500Z",
            "resource": {"resourceType": "Instance", "instanceDetails": {
                "instanceId": "i-0abc",
                "tags": [{"key": "Env", "value": "dev"}, {"key": "Team", "value": "web"}]}},
            "service": {"archived": false, "action": {"networkConnectionAction": {
                "remoteIpDetails": {"organization": {"asn": "16509", "asnOrg": "AMAZON-02"}}}}}
        })
    }

    fn crit(v: Value) -> FindingCriteria {
        FindingCriteria::parse(&json!({ "criterion": v })).unwrap()
    }

    fn err(v: Value) -> &'static str {
        FindingCriteria::parse(&v).unwrap_err().code()
    }

    #[test]
    fn equals_and_not_equals_over_fanned_out_arrays() {
        let f = finding();
        assert!(
            crit(json!({"resource.instanceDetails.tags.value": {"equals": ["dev"]}})).matches(&f)
        );
        assert!(
            crit(json!({"resource.instanceDetails.tags.value": {"equals": ["x", "web"]}}))
                .matches(&f)
        );
        assert!(
            !crit(json!({"resource.instanceDetails.tags.value": {"notEquals": ["web"]}}))
                .matches(&f)
        );
        assert!(
            crit(json!({"resource.instanceDetails.tags.value": {"notEquals": ["prod"]}}))
                .matches(&f)
        );
        // Missing attribute: equals fails, notEquals holds.
        assert!(!crit(json!({"resource.s3BucketDetails.name": {"equals": ["b"]}})).matches(&f));
        assert!(crit(json!({"resource.s3BucketDetails.name": {"notEquals": ["b"]}})).matches(&f));
    }

    #[test]
    fn every_attribute_and_every_operator_must_hold() {
        let f = finding();
        assert!(crit(
            json!({"type": {"equals": ["Recon:EC2/PortProbeUnprotectedPort"]},
                            "severity": {"greaterThanOrEqual": 1, "lessThan": 4}})
        )
        .matches(&f));
        assert!(!crit(
            json!({"type": {"equals": ["Recon:EC2/PortProbeUnprotectedPort"]},
                             "accountId": {"equals": ["999999999999"]}})
        )
        .matches(&f));
        assert!(!crit(json!({"severity": {"greaterThan": 1, "lessThan": 2}})).matches(&f));
    }

    #[test]
    fn numbers_booleans_and_times() {
        let f = finding();
        assert!(crit(json!({"severity": {"equals": ["2.0"]}})).matches(&f));
        assert!(crit(json!({"service.archived": {"equals": ["false"]}})).matches(&f));
        assert!(!crit(json!({"service.archived": {"equals": ["true"]}})).matches(&f));
        assert!(crit(
            json!({"service.action.networkConnectionAction.remoteIpDetails.organization.asn":
                            {"equals": [16509]}})
        )
        .matches(&f));
        let t = parse_iso("2024-01-01T00:00:10.500Z").unwrap();
        assert!(crit(json!({"updatedAt": {"greaterThan": t - 1}})).matches(&f));
        assert!(!crit(json!({"updatedAt": {"greaterThan": t}})).matches(&f));
        assert!(crit(json!({"updatedAt": {"lte": t}})).matches(&f));
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("Recon:*", "Recon:EC2/Portscan"));
        assert!(wildcard_match(
            "*Port*",
            "Recon:EC2/PortProbeUnprotectedPort"
        ));
        assert!(wildcard_match("i-0a?c", "i-0abc"));
        assert!(!wildcard_match("i-0a?c", "i-0abbc"));
        assert!(wildcard_match("*", ""));
        assert!(!wildcard_match("?", ""));
        assert!(wildcard_match("a*b*c", "aXbYbZc"));
        assert!(!wildcard_match("a*b*c", "aXbYbZ"));
        let f = finding();
        assert!(crit(json!({"type": {"matches": ["Recon:EC2/*"]}})).matches(&f));
        assert!(!crit(json!({"type": {"notMatches": ["Recon:*"]}})).matches(&f));
    }

    #[test]
    fn validation_codes() {
        assert_eq!(err(json!([])), "CRITERIA_NOT_AN_OBJECT");
        assert_eq!(err(json!({"criterion": {}})), "CRITERIA_EMPTY");
        assert_eq!(
            err(json!({"criterion": {"a..b": {"equals": ["x"]}}})),
            "CRITERIA_BAD_ATTRIBUTE"
        );
        assert_eq!(
            err(json!({"criterion": {"type": {"like": ["x"]}}})),
            "CRITERIA_UNKNOWN_OPERATOR"
        );
        assert_eq!(
            err(json!({"criterion": {"type": {}}})),
            "CRITERIA_EMPTY_CONDITION"
        );
        assert_eq!(
            err(json!({"criterion": {"type": {"equals": []}}})),
            "CRITERIA_BAD_LIST"
        );
        assert_eq!(
            err(json!({"criterion": {"type": {"equals": "x"}}})),
            "CRITERIA_BAD_LIST"
        );
        assert_eq!(
            err(json!({"criterion": {"severity": {"gt": "7"}}})),
            "CRITERIA_BAD_NUMBER"
        );
        let many: Map<String, Value> = (0..51)
            .map(|i| (format!("a{i}"), json!({"equals": ["x"]})))
            .collect();
        assert_eq!(
            err(json!({"criterion": many})),
            "CRITERIA_TOO_MANY_ATTRIBUTES"
        );
        let values: Vec<String> = (0..51).map(|i| i.to_string()).collect();
        assert_eq!(
            err(json!({"criterion": {"accountId": {"equals": values}}})),
            "CRITERIA_TOO_MANY_VALUES"
        );
        // The limits themselves are allowed.
        let fifty: Map<String, Value> = (0..50)
            .map(|i| {
                (
                    format!("a{i}"),
                    json!({"equals": (0..50).map(|j| j.to_string()).collect::<Vec<_>>()}),
                )
            })
            .collect();
        assert!(FindingCriteria::parse(&json!({"criterion": fifty})).is_ok());
    }

    #[test]
    fn canonical_json_round_trips_with_current_names() {
        let c = FindingCriteria::parse(&json!({"criterion": {
            "severity": {"lt": 7}, "type": {"eq": ["A"]}}}))
        .unwrap();
        let j = c.to_json();
        assert_eq!(
            j,
            json!({"criterion": {"severity": {"lessThan": 7}, "type": {"equals": ["A"]}}})
        );
        assert_eq!(FindingCriteria::parse(&j).unwrap().to_json(), j);
    }
}
