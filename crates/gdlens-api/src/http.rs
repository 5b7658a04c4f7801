//! HTTP routes: `/graphql` (GraphQL over HTTP, GET and POST), GraphiQL, health, readiness,
//! metrics, and the web frontend's built assets with an SPA fallback.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::http::GraphiQLSource;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::timeout::TimeoutLayer;

use crate::auth::{AuthError, Caller, Peer};
use crate::cache::ResponseKey;
use crate::error::ErrorCode;
use crate::limits::{CancelOnDrop, Limits, RequestBudget};
use crate::metrics::RouteKind;
use crate::schema::{build_schema, GdlensSchema};
use crate::state::AppState;

/// The media type of the GraphQL-over-HTTP spec.
const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

#[derive(Clone)]
struct Http {
    state: Arc<AppState>,
    schema: GdlensSchema,
}

/// The whole HTTP application.
pub fn router(state: Arc<AppState>) -> Router {
    let server = &state.config.server;
    let schema = build_schema(
        Some(state.clone()),
        Limits {
            max_aliases: server.max_aliases,
            max_root_fields: server.max_root_fields,
            max_complexity: server.max_query_complexity,
            max_depth: server.max_query_depth,
        },
    );
    let http = Http {
        state: state.clone(),
        schema,
    };
    let web_dir = server
        .web_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("web/dist"));
    let timeout = Duration::from_secs(server.request_timeout_seconds.max(1));
    let max_body = server.max_body_bytes;

    let api = Router::new()
        .route("/graphql", get(graphql_get_or_ws).post(graphql_post))
        .route("/graphql/stream", axum::routing::post(graphql_stream))
        .route(
            "/api/scoring-features",
            crate::features_ipc::route(state.clone()),
        )
        .route("/export", crate::export::route(state.clone()))
        .route("/api/auth/config", get(auth_config))
        .route("/graphiql", get(graphiql))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(http);

    let index_html = web_dir.join("index.html");
    let app = if index_html.is_file() {
        api.fallback_service(ServeDir::new(&web_dir).fallback(ServeFile::new(index_html)))
    } else {
        let dir = web_dir.display().to_string();
        api.fallback(move || {
            let dir = dir.clone();
            async move { Html(missing_web_page(&dir)) }
        })
    };

    let guard = Arc::new(crate::guard::RequestGuard::new(
        server,
        state.auth.enabled(),
    ));
    let mut app = app
        .layer(DefaultBodyLimit::max(max_body))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ));
    if let Some(cors) = cors_layer(&state.config.server.cors_origins) {
        app = app.layer(cors);
    }
    // Outside CORS (a refused origin gets no preflight answer either), inside `observe` (refusals
    // are counted in the request metrics).
    app.layer(middleware::from_fn_with_state(guard, crate::guard::guard))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
}

fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .max_age(Duration::from_secs(600));
    if origins.iter().any(|o| o == "*") {
        return Some(layer.allow_origin(AllowOrigin::any()));
    }
    let list: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    Some(layer.allow_origin(list))
}

async fn observe(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let kind = if path == "/graphql" || path == "/graphql/stream" {
        RouteKind::Graphql
    } else if matches!(path, "/healthz" | "/readyz" | "/metrics") {
        RouteKind::Ops
    } else {
        RouteKind::Web
    };
    let start = Instant::now();
    let resp = next.run(req).await;
    state
        .metrics
        .observe(kind, resp.status().as_u16(), start.elapsed());
    resp
}

fn missing_web_page(dir: &str) -> String {
    format!(
        "<!doctype html><html><head><title>gdlens</title></head><body style=\"font-family:sans-serif;max-width:40em;margin:3em auto\">\
         <h1>gdlens API is running</h1><p>The web frontend is not built: no <code>{}</code> found.</p>\
         <p>Build it with <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code> (or pass <code>--web-dir</code>), then reload.</p>\
         <p>Meanwhile: <a href=\"/graphiql\">GraphiQL</a> · <a href=\"/metrics\">metrics</a></p></body></html>",
        html_escape(&format!("{dir}/index.html"))
    )
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn graphiql() -> Html<String> {
    Html(GraphiQLSource::build().endpoint("/graphql").finish())
}

async fn readyz(State(http): State<Http>) -> Response {
    if http.state.is_ready() {
        // Degraded stays 200: a load balancer keeps the replica, whose reads still work. The
        // detail of the failure is in the log, not on this unauthenticated endpoint.
        match http.state.degraded() {
            Some(_) => (
                StatusCode::OK,
                "degraded: store unreachable (reads from memory, writes refused)\n",
            )
                .into_response(),
            None => (StatusCode::OK, "ready\n").into_response(),
        }
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "building index\n").into_response()
    }
}

/// `GET /api/auth/config`: what the web frontend needs to sign in (public: an issuer and a
/// client id are no secrets). `required` is false only in loopback mode without auth.
async fn auth_config(State(http): State<Http>) -> Response {
    let auth = &http.state.auth;
    let oidc = auth.oidc().map(|o| {
        let c = o.config();
        serde_json::json!({
            "issuer": c.issuer,
            "audience": c.audience,
            "clientId": c.client_id,
            "authorizationEndpoint": c.authorization_endpoint,
            "tokenEndpoint": c.token_endpoint,
            "scopes": c.scopes,
        })
    });
    let body = serde_json::json!({
        "required": auth.enabled(),
        "tokens": auth.tokens().enabled(),
        "proxy": auth.proxy_enabled(),
        "oidc": oidc,
    });
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response()
}

async fn metrics(State(http): State<Http>, Peer(peer): Peer, headers: HeaderMap) -> Response {
    let st = &http.state;
    // Open in loopback mode (the local caller is admin); with tokens: admin or metrics.
    match st.auth.authenticate(&headers, peer).await {
        Ok(caller) if caller.role.can_read_metrics() => {}
        Ok(caller) => {
            return error_response(
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden.as_str(),
                &format!(
                    "/metrics needs the admin or metrics role; token `{}` is {}",
                    caller.name,
                    caller.role.as_str()
                ),
                false,
            )
        }
        Err(e) => return unauthenticated(&e, false),
    }
    let mut out = String::with_capacity(4096);
    st.metrics.render(&mut out);
    st.live.render(&mut out);
    if let Some(hooks) = &st.webhooks {
        hooks.render_metrics(&mut out);
    }
    st.caches.render(&mut out);
    let snap = st.snapshot();
    let (findings, index_bytes) = (snap.index.len(), snap.index.memory_bytes());
    let groups = snap.groups.active().len();
    use std::fmt::Write as _;
    let _ = writeln!(out, "# HELP gdlens_findings Latest findings held in the index.\n# TYPE gdlens_findings gauge\ngdlens_findings {findings}");
    let _ = writeln!(out, "# HELP gdlens_finding_groups Finding groups.\n# TYPE gdlens_finding_groups gauge\ngdlens_finding_groups {groups}");
    let _ = writeln!(out, "# HELP gdlens_index_bytes Index memory.\n# TYPE gdlens_index_bytes gauge\ngdlens_index_bytes {index_bytes}");
    let _ = writeln!(out, "# HELP gdlens_cells_bytes Memory of the cells summaries and counts are pre-aggregated in (0 until built).\n# TYPE gdlens_cells_bytes gauge\ngdlens_cells_bytes {}", snap.cells_bytes());
    let _ = writeln!(out, "# HELP gdlens_all_view_bytes Memory of the all-accounts view (features, scores, priority order), held outside the caches.\n# TYPE gdlens_all_view_bytes gauge\ngdlens_all_view_bytes {}", st.all_view_bytes());
    let _ = writeln!(out, "# HELP gdlens_data_generation Data generation.\n# TYPE gdlens_data_generation gauge\ngdlens_data_generation {}", snap.generation);
    let _ = writeln!(out, "# HELP gdlens_cache_bytes_total Estimated bytes held by every cache together.\n# TYPE gdlens_cache_bytes_total gauge\ngdlens_cache_bytes_total {}", st.caches.weighted_bytes());
    if let Some(bytes) = st.with_store(|s| Ok(s.size_bytes())).await.ok().flatten() {
        let _ = writeln!(out, "# HELP gdlens_store_bytes Store size on disk.\n# TYPE gdlens_store_bytes gauge\ngdlens_store_bytes {bytes}");
    }
    let _ = writeln!(out, "# HELP gdlens_ready 1 once the initial build is done.\n# TYPE gdlens_ready gauge\ngdlens_ready {}", u8::from(st.is_ready()));
    let _ = writeln!(out, "# HELP gdlens_degraded 1 while the shared store is unreachable (reads from memory, writes refused).\n# TYPE gdlens_degraded gauge\ngdlens_degraded {}", u8::from(st.degraded().is_some()));
    if let Ok(sync) = st.with_store(|s| s.sync_status()).await {
        out.push_str("# HELP gdlens_sync_last_success_timestamp_seconds Last successful sync per region.\n# TYPE gdlens_sync_last_success_timestamp_seconds gauge\n");
        for s in &sync {
            let ts = s.last_success_at.map(|t| t as f64 / 1000.0).unwrap_or(0.0);
            let _ = writeln!(
                out,
                "gdlens_sync_last_success_timestamp_seconds{{region=\"{}\"}} {ts}",
                s.region
            );
        }
        out.push_str("# HELP gdlens_sync_error 1 when the last sync of a region failed.\n# TYPE gdlens_sync_error gauge\n");
        for s in &sync {
            let _ = writeln!(
                out,
                "gdlens_sync_error{{region=\"{}\"}} {}",
                s.region,
                u8::from(s.last_error_code.is_some())
            );
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

/// GET parameters of a GraphQL request.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetParams {
    query: Option<String>,
    variables: Option<String>,
    operation_name: Option<String>,
}

/// A GraphQL request as sent over HTTP.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostBody {
    query: Option<String>,
    #[serde(default)]
    variables: Option<serde_json::Value>,
    operation_name: Option<String>,
}

struct Wire {
    query: String,
    variables: serde_json::Value,
    operation_name: Option<String>,
}

fn wants_graphql_response(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains(GRAPHQL_RESPONSE_JSON))
}

fn error_response(
    status: StatusCode,
    code: &str,
    message: &str,
    graphql_response: bool,
) -> Response {
    let body = serde_json::json!({"errors": [{"message": message, "extensions": {"code": code}}]});
    let ct = if graphql_response {
        GRAPHQL_RESPONSE_JSON
    } else {
        "application/json"
    };
    // With application/json the spec keeps 200 for GraphQL errors, except auth and transport failures.
    (status, [(header::CONTENT_TYPE, ct)], body.to_string()).into_response()
}

/// 401 `UNAUTHENTICATED` with `WWW-Authenticate: Bearer …`, or 403 `FORBIDDEN` for a valid
/// identity without a grant.
fn unauthenticated(e: &AuthError, graphql_response: bool) -> Response {
    let mut r = error_response(
        e.status(),
        e.code().as_str(),
        &e.to_string(),
        graphql_response,
    );
    if let Some(value) = e.www_authenticate() {
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(value));
    }
    r
}

/// `GET /graphql`: a WebSocket upgrade (graphql-transport-ws subscriptions) or a query.
async fn graphql_get_or_ws(State(http): State<Http>, req: Request) -> Response {
    if crate::live::ws::is_upgrade(req.headers()) {
        return crate::live::ws::upgrade(http.state.clone(), http.schema.clone(), req).await;
    }
    axum::handler::Handler::call(graphql_get, req, http).await
}

/// `POST /graphql/stream`: one subscription as server-sent events (graphql-sse, distinct
/// connections mode). Queries and mutations go to `/graphql`, with its caches and limits.
async fn graphql_stream(
    State(http): State<Http>,
    Peer(peer): Peer,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(e) => {
            return error_response(
                e.status(),
                ErrorCode::BadRequest.as_str(),
                &e.body_text(),
                false,
            )
        }
    };
    let caller: Caller = match http.state.auth.authenticate(&headers, peer).await {
        Ok(c) => c,
        Err(e) => return unauthenticated(&e, false),
    };
    if !caller.role.can_read_findings() {
        return error_response(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden.as_str(),
            &format!("the {} role cannot subscribe", caller.role.as_str()),
            false,
        );
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if ct != "application/json" {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType.as_str(),
            "POST /graphql/stream needs Content-Type: application/json",
            false,
        );
    }
    let wire = match json_wire(&body, false) {
        Ok(w) => w,
        Err(r) => return *r,
    };
    match async_graphql::parser::parse_query(&wire.query) {
        Ok(doc) if is_subscription(&doc, wire.operation_name.as_deref()) => {}
        Ok(_) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadRequest.as_str(),
                "/graphql/stream runs subscriptions; send queries and mutations to /graphql",
                false,
            )
        }
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::GraphqlParseFailed.as_str(),
                &e.to_string(),
                false,
            )
        }
    }
    let mut request = async_graphql::Request::new(wire.query)
        .variables(async_graphql::Variables::from_json(wire.variables));
    if let Some(op) = wire.operation_name {
        request = request.operation_name(op);
    }
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    crate::live::sse::respond(&http.state, &http.schema, caller, request, authorization)
}

fn is_subscription(
    doc: &async_graphql::parser::types::ExecutableDocument,
    operation_name: Option<&str>,
) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    match &doc.operations {
        DocumentOperations::Single(op) => op.node.ty == OperationType::Subscription,
        DocumentOperations::Multiple(ops) => operation_name
            .and_then(|name| ops.get(name))
            .is_some_and(|op| op.node.ty == OperationType::Subscription),
    }
}

async fn graphql_get(
    State(http): State<Http>,
    Peer(peer): Peer,
    headers: HeaderMap,
    params: Result<Query<GetParams>, QueryRejection>,
) -> Response {
    let gr = wants_graphql_response(&headers);
    // A query string serde refuses (e.g. `query` twice) gets a JSON error with a code too.
    let params = match params {
        Ok(Query(params)) => params,
        Err(e) => {
            return error_response(
                e.status(),
                ErrorCode::BadRequest.as_str(),
                &e.body_text(),
                gr,
            )
        }
    };
    let accept_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    let Some(params) = Some(params).filter(|p| p.query.is_some()) else {
        if accept_html {
            return graphiql().await.into_response();
        }
        return error_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest.as_str(),
            "missing `query` parameter",
            gr,
        );
    };
    let variables = match params.variables.as_deref() {
        None | Some("") => serde_json::Value::Null,
        Some(v) => match serde_json::from_str(v) {
            Ok(v) => v,
            Err(e) => {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadRequest.as_str(),
                    &format!("`variables` is not JSON: {e}"),
                    gr,
                )
            }
        },
    };
    let wire = Wire {
        query: params.query.unwrap_or_default(),
        variables,
        operation_name: params.operation_name,
    };
    execute(&http, &headers, peer, wire, true).await
}

async fn graphql_post(
    State(http): State<Http>,
    Peer(peer): Peer,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let gr = wants_graphql_response(&headers);
    // A body over `max_body_bytes` (413) or one that fails to arrive: a JSON error with a code.
    let body = match body {
        Ok(body) => body,
        Err(e) => {
            return error_response(
                e.status(),
                ErrorCode::BadRequest.as_str(),
                &e.body_text(),
                gr,
            )
        }
    };
    // The media type without parameters (`application/json; charset=utf-8`).
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    // No or a "simple" content type (text/plain, forms) is what a cross-site page can send
    // without a CORS preflight: refused, so only a JSON or GraphQL body runs anything.
    let wire = if ct == "application/graphql" {
        match std::str::from_utf8(&body) {
            Ok(q) => Wire {
                query: q.to_string(),
                variables: serde_json::Value::Null,
                operation_name: None,
            },
            Err(_) => {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadRequest.as_str(),
                    "body is not UTF-8",
                    gr,
                )
            }
        }
    } else if ct == "application/json" || ct == GRAPHQL_RESPONSE_JSON {
        match json_wire(&body, gr) {
            Ok(w) => w,
            Err(r) => return *r,
        }
    } else {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType.as_str(),
            "POST /graphql needs Content-Type: application/json (or application/graphql)",
            gr,
        );
    };
    execute(&http, &headers, peer, wire, false).await
}

fn is_mutation(
    doc: &async_graphql::parser::types::ExecutableDocument,
    operation_name: Option<&str>,
) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    match &doc.operations {
        DocumentOperations::Single(op) => op.node.ty != OperationType::Query,
        DocumentOperations::Multiple(ops) => match operation_name {
            Some(name) => ops
                .get(name)
                .is_some_and(|op| op.node.ty != OperationType::Query),
            None => ops.values().any(|op| op.node.ty != OperationType::Query),
        },
    }
}

async fn execute(
    http: &Http,
    headers: &HeaderMap,
    peer: Option<std::net::IpAddr>,
    wire: Wire,
    is_get: bool,
) -> Response {
    let gr = wants_graphql_response(headers);
    let ct = if gr {
        GRAPHQL_RESPONSE_JSON
    } else {
        "application/json"
    };
    let caller: Caller = match http.state.auth.authenticate(headers, peer).await {
        Ok(c) => c,
        Err(e) => return unauthenticated(&e, gr),
    };
    // A scraper token (role `metrics`) reads /metrics only.
    if !caller.role.can_read_findings() {
        return error_response(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden.as_str(),
            &format!(
                "token `{}` has the {} role, which cannot use GraphQL",
                caller.name,
                caller.role.as_str()
            ),
            gr,
        );
    }
    if wire.query.len() > http.state.config.server.max_body_bytes {
        return error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BadRequest.as_str(),
            "query too large",
            gr,
        );
    }
    // Read-only responses are cached whole: same text, variables and scope at the same generation.
    // Keyed by who asks too: `viewer` answers with the caller's own name and role.
    let key = ResponseKey {
        request: format!(
            "{}\u{0}{}\u{0}{}",
            wire.query,
            wire.variables,
            wire.operation_name.as_deref().unwrap_or("")
        ),
        caller: caller.actor(),
        role: caller.role,
        scope: caller.scope_key,
        generation: http.state.generation(),
        minute: gdlens_domain::sla::truncate_to_minute(crate::state::now_ms()),
    };
    if let Some(bytes) = http.state.caches.responses.lookup(&key).await {
        return ([(header::CONTENT_TYPE, ct)], bytes).into_response();
    }
    let doc = match async_graphql::parser::parse_query(&wire.query) {
        Ok(doc) => doc,
        Err(e) => {
            let status = if gr {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            };
            return error_response(
                status,
                ErrorCode::GraphqlParseFailed.as_str(),
                &e.to_string(),
                gr,
            );
        }
    };
    let mutation = is_mutation(&doc, wire.operation_name.as_deref());
    if is_get && mutation {
        let mut r = error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::BadRequest.as_str(),
            "mutations need POST",
            gr,
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    let server = &http.state.config.server;
    let budget = RequestBudget::new(Duration::from_millis(server.request_cpu_budget_ms));
    // Dropping this request (timeout, client gone) stops its blocking work at the next check.
    let _cancel = CancelOnDrop(budget.clone());
    let mut request = async_graphql::Request::new(wire.query)
        .variables(async_graphql::Variables::from_json(wire.variables))
        .data(caller)
        .data(budget);
    if let Some(op) = wire.operation_name {
        request = request.operation_name(op);
    }
    let generation_before = http.state.generation();
    let response = http.schema.execute(request).await;
    // Request errors (parse, validation, limits) carry no path: nothing was executed.
    let failed_before_execution = !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
        && response.data == async_graphql::Value::Null;
    let mut response = response;
    for e in &mut response.errors {
        // Limit errors carry their codes (limits.rs); anything else async-graphql refuses before
        // execution is a validation failure.
        let has_code = e
            .extensions
            .as_ref()
            .is_some_and(|x| x.get("code").is_some());
        if !has_code {
            e.extensions
                .get_or_insert_with(Default::default)
                .set("code", ErrorCode::GraphqlValidationFailed.as_str());
        }
    }
    let body = match serde_json::to_vec(&response) {
        Ok(b) => Bytes::from(b),
        Err(e) => {
            tracing::error!(error = %e, "cannot serialize GraphQL response");
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal.as_str(),
                "internal error",
                gr,
            );
        }
    };
    if body.len() > server.max_response_bytes {
        tracing::warn!(
            bytes = body.len(),
            limit = server.max_response_bytes,
            "response over the byte budget refused"
        );
        return error_response(
            StatusCode::OK,
            ErrorCode::ResponseTooLarge.as_str(),
            &format!(
                "the response would be {} bytes; at most {} are allowed (ask for fewer fields or a smaller page)",
                body.len(),
                server.max_response_bytes
            ),
            gr,
        );
    }
    let status = if gr && failed_before_execution {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    if !mutation && response.errors.is_empty() && http.state.generation() == generation_before {
        http.state.caches.responses.insert(key, body.clone()).await;
    }
    (status, [(header::CONTENT_TYPE, ct)], body).into_response()
}

/// A `POST` body in `application/json`: `{query, variables, operationName}`, or the error
/// response (`BAD_REQUEST`) that names what is wrong with it.
fn json_wire(body: &[u8], graphql_response: bool) -> Result<Wire, Box<Response>> {
    match serde_json::from_slice::<PostBody>(body) {
        Ok(PostBody {
            query: Some(query),
            variables,
            operation_name,
        }) => Ok(Wire {
            query,
            variables: variables.unwrap_or(serde_json::Value::Null),
            operation_name,
        }),
        Ok(_) => Err(Box::new(error_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest.as_str(),
            "missing `query`",
            graphql_response,
        ))),
        Err(e) => Err(Box::new(error_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest.as_str(),
            &format!("body is not a GraphQL request: {e}"),
            graphql_response,
        ))),
    }
}
