//! graphql-sse, distinct connections mode, on `POST /graphql/stream`: one subscription per HTTP
//! response, its results as `next` events, then one `complete` event.
//!
//! Authenticated like `/graphql` (the `Authorization` header); the response holds one of the
//! token's live connection slots while it streams. Backpressure is the socket's: events are
//! produced only as the client reads them, and a subscription that falls `event_buffer`
//! changes behind ends with a `SLOW_CONSUMER` error, then `complete`.

use std::convert::Infallible;
use std::sync::Arc;

use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

use super::LiveConnection;
use crate::auth::Caller;
use crate::error::ErrorCode;
use crate::schema::GdlensSchema;
use crate::state::AppState;

/// Streams `request` (a subscription, already authenticated as `caller`) as server-sent events.
pub(crate) fn respond(
    st: &Arc<AppState>,
    schema: &GdlensSchema,
    caller: Caller,
    request: async_graphql::Request,
    authorization: Option<&str>,
) -> Response {
    let Some(slot) = st.live.connect(caller.actor()) else {
        let body = serde_json::json!({"errors": [{
            "message": format!("at most {} live connections per token", st.live.config().max_connections_per_token),
            "extensions": {"code": ErrorCode::TooManyConnections.as_str()},
        }]});
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
    };
    let conn = Arc::new(LiveConnection::default());
    let results = schema.execute_stream(request.data(caller).data(conn));
    // An OIDC token's `exp` ends the stream: a live connection does not outlive its token.
    let expiry = super::ws::token_lifetime(authorization);
    let results = results.take_until(async move {
        match expiry {
            Some(left) => tokio::time::sleep(left).await,
            None => std::future::pending().await,
        }
    });
    let events = results
        .map(move |response| {
            // The slot is released when the response body is dropped.
            let _slot = &slot;
            let event = Event::default().event("next");
            Ok::<_, Infallible>(match event.json_data(&response) {
                Ok(e) => e,
                Err(e) => {
                    tracing::error!(error = %e, "cannot serialize a subscription event");
                    Event::default().event("next").data(
                        serde_json::json!({"errors": [{"message": "internal error", "extensions": {"code": ErrorCode::Internal.as_str()}}]})
                            .to_string(),
                    )
                }
            })
        })
        .chain(futures_util::stream::once(async {
            Ok(Event::default().event("complete").data(""))
        }));
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}
