//! graphql-transport-ws on `GET /graphql` (WebSocket upgrade).
//!
//! async-graphql's protocol state machine (`async_graphql::http::WebSocket`, what
//! async-graphql-axum's `GraphQLSubscription` runs) speaks the protocol; this loop around it
//! adds what a multi-tenant server needs:
//!
//! - **auth in `connection_init`**: `payload.Authorization` (`Bearer …`; `authorization` and
//!   `token` are accepted too) through the same authenticator as HTTP, falling back to the
//!   upgrade request's headers (proxy sign-in, loopback mode). Refusals close with 4401 / 4403.
//! - **limits**: `max_connections_per_token` (close 4502) and `max_subscriptions_per_connection`
//!   (an `error` message with `TOO_MANY_SUBSCRIPTIONS` for the refused `subscribe`).
//! - **bounded buffers**: messages go to the socket through a queue of `outgoing_queue`
//!   messages; a client that lets it fill, or whose subscription falls `event_buffer` changes
//!   behind, is closed with 4501 (slow consumer) and its queued messages are dropped.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::http::{
    ClientMessage, WebSocket as Protocol, WebSocketProtocols as Protocols, WsMessage,
};
use async_graphql::Data;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot};

use super::{
    LiveConnection, CLOSE_BAD_MESSAGE, CLOSE_DUPLICATE_ID, CLOSE_FORBIDDEN, CLOSE_INIT_TIMEOUT,
    CLOSE_SLOW_CONSUMER, CLOSE_TOO_MANY_CONNECTIONS, CLOSE_TOO_MANY_INITS, CLOSE_UNAUTHORIZED,
};
use crate::auth::{AuthError, Caller};
use crate::error::ErrorCode;
use crate::schema::GdlensSchema;
use crate::state::AppState;

/// The subprotocol spoken.
pub const SUBPROTOCOL: &str = "graphql-transport-ws";

/// Whether `headers` ask for a WebSocket upgrade.
pub(crate) fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Answers the upgrade request (101, or 400 without the graphql-transport-ws subprotocol).
pub(crate) async fn upgrade(st: Arc<AppState>, schema: GdlensSchema, req: Request) -> Response {
    let (mut parts, _body) = req.into_parts();
    let offers_protocol = parts
        .headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|p| p.trim() == SUBPROTOCOL));
    if !offers_protocol {
        return (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "application/json")],
            serde_json::json!({"errors": [{
                "message": format!("a WebSocket on /graphql must offer the `{SUBPROTOCOL}` subprotocol"),
                "extensions": {"code": ErrorCode::BadRequest.as_str()}
            }]})
            .to_string(),
        )
            .into_response();
    }
    let ws = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(ws) => ws,
        Err(e) => return e.into_response(),
    };
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let headers = parts.headers;
    ws.protocols([SUBPROTOCOL])
        .on_upgrade(move |socket| serve(socket, st, schema, headers, peer))
}

fn close(code: u16, reason: impl Into<String>) -> Message {
    let reason: String = reason.into();
    // A close reason has at most 123 bytes.
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    Message::Close(Some(CloseFrame {
        code,
        reason: reason[..end].to_string().into(),
    }))
}

/// The `connection_init` payload's token, as an `Authorization` header value.
fn init_authorization(payload: &Option<serde_json::Value>) -> Option<String> {
    let p = payload.as_ref()?.as_object()?;
    let v = ["Authorization", "authorization"]
        .iter()
        .find_map(|k| p.get(*k).and_then(|v| v.as_str()))
        .map(str::to_string)
        .or_else(|| {
            p.get("token")
                .and_then(|v| v.as_str())
                .map(|t| format!("Bearer {t}"))
        })?;
    Some(v)
}

/// When the bearer token in `authorization` expires, if it is a JWT (OIDC): its `exp` claim. The
/// token was verified by the authenticator already; this only reads the claim so a live
/// connection does not outlive its token.
fn jwt_expiry(authorization: &str) -> Option<i64> {
    use base64::Engine as _;
    let token = authorization.strip_prefix("Bearer ")?.trim();
    let mut parts = token.split('.');
    let (_, claims, _) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()?
        .get("exp")?
        .as_i64()
}

/// How long until `authorization`'s token expires (`None`: it does not, e.g. a `[[tokens]]` one).
pub(crate) fn token_lifetime(authorization: Option<&str>) -> Option<Duration> {
    let exp = jwt_expiry(authorization?)?;
    let now = crate::state::now_ms() / 1000;
    Some(Duration::from_secs(exp.saturating_sub(now).max(0) as u64))
}

/// Authenticates `connection_init`: the payload's token, else the upgrade request's headers.
async fn authenticate(
    st: &AppState,
    upgrade_headers: &HeaderMap,
    payload: &Option<serde_json::Value>,
    peer: Option<IpAddr>,
) -> Result<Caller, (u16, String)> {
    let result = match init_authorization(payload) {
        Some(value) => {
            let mut headers = HeaderMap::new();
            match HeaderValue::from_str(&value) {
                Ok(v) => {
                    headers.insert(header::AUTHORIZATION, v);
                    st.auth.authenticate(&headers, peer).await
                }
                Err(_) => Err(AuthError::Malformed),
            }
        }
        None => st.auth.authenticate(upgrade_headers, peer).await,
    };
    match result {
        Ok(c) if c.role.can_read_findings() => Ok(c),
        Ok(c) => Err((
            CLOSE_FORBIDDEN,
            format!("Forbidden: the {} role cannot subscribe", c.role.as_str()),
        )),
        Err(e) if e.status() == StatusCode::FORBIDDEN => {
            Err((CLOSE_FORBIDDEN, format!("Forbidden: {e}")))
        }
        Err(e) => Err((CLOSE_UNAUTHORIZED, format!("Unauthorized: {e}"))),
    }
}

/// Serves one graphql-transport-ws connection until either side closes it.
async fn serve(
    socket: WebSocket,
    st: Arc<AppState>,
    schema: GdlensSchema,
    upgrade_headers: HeaderMap,
    peer: Option<IpAddr>,
) {
    let cfg = st.live.config().clone();
    let (mut sink, mut source) = socket.split();

    // The writer: the only task touching the socket's sending half.
    let (out_tx, mut out_rx) = mpsc::channel::<Message>(cfg.outgoing_queue.max(1));
    let (abort_tx, mut abort_rx) = oneshot::channel::<Message>();
    let writer = tokio::spawn(async move {
        // The client may not be reading at all: the last message gets a few seconds, no more.
        let last_word = |mut sink: futures_util::stream::SplitSink<WebSocket, Message>, last| async move {
            let _ = tokio::time::timeout(Duration::from_secs(5), sink.send(last)).await;
        };
        loop {
            tokio::select! {
                biased;
                last = &mut abort_rx => {
                    if let Ok(last) = last {
                        last_word(sink, last).await;
                    }
                    return;
                }
                msg = out_rx.recv() => {
                    let Some(msg) = msg else { break };
                    let closing = matches!(msg, Message::Close(_));
                    // A send blocked on a client that does not read gives way to the abort.
                    tokio::select! {
                        biased;
                        last = &mut abort_rx => {
                            if let Ok(last) = last {
                                last_word(sink, last).await;
                            }
                            return;
                        }
                        sent = sink.send(msg) => {
                            if sent.is_err() || closing {
                                break;
                            }
                        }
                    }
                }
            }
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), sink.close()).await;
    });

    // The protocol machine reads the client messages this loop lets through.
    let (in_tx, in_rx) = mpsc::channel::<ClientMessage>(8);
    let input = futures_util::stream::unfold(in_rx, |mut rx| async move {
        rx.recv().await.map(|m| (Ok(m), rx))
    });
    let init_data: Arc<Mutex<Option<Data>>> = Arc::default();
    let init_slot = init_data.clone();
    let mut protocol = Box::pin(
        Protocol::from_message_stream(schema, input, Protocols::GraphQLWS).on_connection_init(
            move |_payload| {
                let data = init_slot.lock().unwrap_or_else(|e| e.into_inner()).take();
                async move { data.ok_or_else(|| async_graphql::Error::new("Unauthorized")) }
            },
        ),
    );

    let conn = Arc::new(LiveConnection::default());
    let mut slot = None;
    let mut active: HashSet<String> = HashSet::new();
    let init_timeout = tokio::time::sleep(Duration::from_secs(
        cfg.connection_init_timeout_seconds.max(1),
    ));
    tokio::pin!(init_timeout);
    // An OIDC token's `exp` ends the connection (re-armed at `connection_init`).
    let expiry = tokio::time::sleep(Duration::from_secs(u32::MAX as u64));
    tokio::pin!(expiry);
    let mut expires = false;
    let mut initialised = false;
    let mut stopping = st.live.stopping();

    // What ends the connection: a message for the writer to send last, if any.
    let last: Option<Message> = loop {
        tokio::select! {
            () = &mut init_timeout, if !initialised => {
                break Some(close(CLOSE_INIT_TIMEOUT, "Connection initialisation timeout"));
            }
            Ok(()) = stopping.changed() => {
                break Some(close(1001, "server shutting down"));
            }
            () = &mut expiry, if expires => {
                break Some(close(CLOSE_UNAUTHORIZED, "Unauthorized: the token expired; connect again with a new one"));
            }
            () = conn.slowed() => {
                break Some(close(CLOSE_SLOW_CONSUMER, "slow consumer: events were not read fast enough"));
            }
            msg = source.next() => {
                let bytes = match msg {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break None,
                    Some(Ok(Message::Text(t))) => t.as_bytes().to_vec(),
                    Some(Ok(Message::Binary(b))) => b.to_vec(),
                    Some(Ok(_)) => continue, // WebSocket ping/pong: answered by the library
                };
                let message = match ClientMessage::from_bytes(&bytes) {
                    Ok(m) => m,
                    Err(e) => break Some(close(CLOSE_BAD_MESSAGE, format!("Invalid message received: {e}"))),
                };
                match &message {
                    ClientMessage::ConnectionInit { payload } => {
                        if initialised {
                            break Some(close(CLOSE_TOO_MANY_INITS, "Too many initialisation requests"));
                        }
                        let caller = match authenticate(&st, &upgrade_headers, payload, peer).await {
                            Ok(c) => c,
                            Err((code, reason)) => break Some(close(code, reason)),
                        };
                        // Tokens by name; people by who they are.
                        match st.live.connect(caller.actor()) {
                            Some(s) => slot = Some(s),
                            None => break Some(close(
                                CLOSE_TOO_MANY_CONNECTIONS,
                                format!("{}: at most {} live connections per token", ErrorCode::TooManyConnections.as_str(), cfg.max_connections_per_token),
                            )),
                        }
                        let authorization = init_authorization(payload).or_else(|| {
                            upgrade_headers
                                .get(header::AUTHORIZATION)
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_string)
                        });
                        if let Some(left) = token_lifetime(authorization.as_deref()) {
                            expiry.as_mut().reset(tokio::time::Instant::now() + left);
                            expires = true;
                        }
                        let mut data = Data::default();
                        data.insert(caller);
                        data.insert(conn.clone());
                        *init_data.lock().unwrap_or_else(|e| e.into_inner()) = Some(data);
                        initialised = true;
                    }
                    ClientMessage::Start { id, .. } => {
                        if active.contains(id) {
                            break Some(close(CLOSE_DUPLICATE_ID, format!("Subscriber for {id} already exists")));
                        }
                        if initialised
                            && !active.contains(id)
                            && active.len() >= cfg.max_subscriptions_per_connection
                        {
                            st.live.stats.refused_subscriptions.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let refusal = serde_json::json!({
                                "id": id,
                                "type": "error",
                                "payload": [{
                                    "message": format!("at most {} subscriptions per connection", cfg.max_subscriptions_per_connection),
                                    "extensions": {"code": ErrorCode::TooManySubscriptions.as_str()},
                                }],
                            });
                            if out_tx.try_send(Message::Text(refusal.to_string().into())).is_err() {
                                break Some(close(CLOSE_SLOW_CONSUMER, "slow consumer"));
                            }
                            continue;
                        }
                        active.insert(id.clone());
                    }
                    ClientMessage::Stop { id } => {
                        active.remove(id);
                    }
                    _ => {}
                }
                if in_tx.send(message).await.is_err() {
                    break None;
                }
            }
            out = protocol.next() => {
                let Some(out) = out else { break None };
                let msg = match out {
                    WsMessage::Text(text) => {
                        if let Some(id) = completed_id(&text) {
                            active.remove(&id);
                        }
                        Message::Text(text.into())
                    }
                    WsMessage::Close(code, reason) => break Some(close(code, reason)),
                };
                if out_tx.try_send(msg).is_err() {
                    break Some(close(CLOSE_SLOW_CONSUMER, "slow consumer: events were not read fast enough"));
                }
            }
        }
    };
    if let Some(last) = last {
        let slow = matches!(&last, Message::Close(Some(f)) if f.code == CLOSE_SLOW_CONSUMER);
        if slow {
            // Counted once per connection (a lagging subscription counted itself already).
            if !conn.is_slow() {
                st.live
                    .stats
                    .slow_consumers
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            tracing::info!("live WebSocket closed: slow consumer");
            // Queued messages are dropped: the close goes out next.
            let _ = abort_tx.send(last);
        } else if let Err(e) = out_tx.try_send(last) {
            let _ = abort_tx.send(e.into_inner());
        }
    }
    drop(protocol); // ends every subscription of the connection
    drop(out_tx);
    let _ = writer.await;
    drop(slot);
}

/// The id of a `complete` message the server sends (the subscription ended on its side).
fn completed_id(text: &str) -> Option<String> {
    if !text.starts_with(r#"{"type":"complete""#) {
        return None;
    }
    serde_json::from_str::<serde_json::Value>(text)
        .ok()?
        .get("id")?
        .as_str()
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_from_the_init_payload() {
        let p = |v: serde_json::Value| init_authorization(&Some(v));
        assert_eq!(
            p(serde_json::json!({"Authorization": "Bearer a"})).as_deref(),
            Some("Bearer a")
        );
        assert_eq!(
            p(serde_json::json!({"authorization": "Bearer b"})).as_deref(),
            Some("Bearer b")
        );
        assert_eq!(
            p(serde_json::json!({"token": "c"})).as_deref(),
            Some("Bearer c")
        );
        assert_eq!(p(serde_json::json!({"other": 1})), None);
        assert_eq!(init_authorization(&None), None);
    }

    #[test]
    fn a_jwt_expiry_is_read_and_other_tokens_have_none() {
        use base64::Engine as _;
        let b64 = |v: serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let now = crate::state::now_ms() / 1000;
        let jwt = format!(
            "Bearer {}.{}.sig",
            b64(serde_json::json!({"alg": "RS256"})),
            b64(serde_json::json!({"sub": "u", "exp": now + 120}))
        );
        let left = token_lifetime(Some(&jwt)).expect("a JWT expires");
        assert!(left <= Duration::from_secs(120) && left >= Duration::from_secs(100));
        let past = format!(
            "Bearer {}.{}.sig",
            b64(serde_json::json!({"alg": "RS256"})),
            b64(serde_json::json!({"exp": now - 10}))
        );
        assert_eq!(token_lifetime(Some(&past)), Some(Duration::ZERO));
        assert_eq!(token_lifetime(Some("Bearer admin-secret")), None);
        assert_eq!(token_lifetime(None), None);
    }

    #[test]
    fn close_reasons_fit_a_close_frame() {
        let Message::Close(Some(frame)) = close(4401, "é".repeat(100)) else {
            panic!("a close frame")
        };
        assert!(frame.reason.len() <= 123);
        assert_eq!(frame.code, 4401);
    }

    #[test]
    fn completed_ids_are_read_from_complete_messages_only() {
        assert_eq!(
            completed_id(r#"{"type":"complete","id":"7"}"#).as_deref(),
            Some("7")
        );
        assert_eq!(completed_id(r#"{"type":"next","id":"7"}"#), None);
    }
}
