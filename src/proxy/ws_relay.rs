//! Relaying an upgraded WebSocket between the client and the upstream, one
//! message at a time, copying each data message into the capture.
//!
//! Data and close messages are relayed; pings and pongs are answered on each
//! hop by tungstenite itself, so a keep-alive on one side never depends on the
//! other side's latency.

use std::time::{Duration, Instant};

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{Sink, SinkExt as _, StreamExt as _};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::exchange::{Side, WsCapture, WsCloseInfo, WsData, WsFrame};
use crate::upstream::{WsError, WsMessage, WsTransport};

/// How long to wait for the other side to answer a close, or to finish after
/// one side vanished, before giving up on the session.
const CLOSE_PATIENCE: Duration = Duration::from_secs(5);

/// One side of the relay.
struct End<S: WsTransport> {
    side: Side,
    tx: SplitSink<S, WsMessage>,
    rx: SplitStream<S>,
    open: bool,
}

/// Relay until both sides are done (or `shutdown` resolves); return what passed.
pub(crate) async fn relay<C, U>(
    client: C,
    upstream: U,
    since: Instant,
    shutdown: impl Future<Output = ()>,
) -> WsCapture
where
    C: WsTransport,
    U: WsTransport,
{
    let (tx, rx) = client.split();
    let mut client = End { side: Side::Client, tx, rx, open: true };
    let (tx, rx) = upstream.split();
    let mut upstream = End { side: Side::Server, tx, rx, open: true };
    let mut capture = WsCapture::default();
    let mut deadline: Option<tokio::time::Instant> = None;
    tokio::pin!(shutdown);
    while client.open || upstream.open {
        let patience = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            message = client.rx.next(), if client.open => {
                pass(message, &mut client, &mut upstream.tx, &mut capture, since).await;
            }
            message = upstream.rx.next(), if upstream.open => {
                pass(message, &mut upstream, &mut client.tx, &mut capture, since).await;
            }
            () = &mut shutdown => {
                let going_away = || WsMessage::Close(Some(CloseFrame { code: CloseCode::Away, reason: "proxy shutting down".into() }));
                let _ = client.tx.send(going_away()).await;
                let _ = upstream.tx.send(going_away()).await;
                break;
            }
            () = patience => break,
        }
        if deadline.is_none() && (capture.close.is_some() || !client.open || !upstream.open) {
            deadline = Some(tokio::time::Instant::now() + CLOSE_PATIENCE);
        }
    }
    capture
}

/// Handle one message read from `from`, relaying it to `to`.
async fn pass<S, T>(
    message: Option<Result<WsMessage, WsError>>,
    from: &mut End<S>,
    to: &mut T,
    capture: &mut WsCapture,
    since: Instant,
) where
    S: WsTransport,
    T: Sink<WsMessage, Error = WsError> + Unpin,
{
    let Some(Ok(message)) = message else {
        // This side is gone without (or after) a close: end the other side too.
        from.open = false;
        let _ = to.close().await;
        return;
    };
    let data = match &message {
        WsMessage::Text(text) => Some(WsData::Text(text.as_str().to_owned())),
        WsMessage::Binary(bytes) => Some(WsData::Binary(bytes.clone())),
        WsMessage::Close(frame) => {
            if capture.close.is_some() {
                // The answer to a close we relayed; tungstenite already
                // answered the first closer itself.
                return;
            }
            capture.close = Some(WsCloseInfo {
                from: from.side,
                code: frame.as_ref().map(|f| u16::from(f.code)),
                reason: frame.as_ref().map(|f| f.reason.as_str().to_owned()).filter(|r| !r.is_empty()),
            });
            None
        }
        WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_) => return,
    };
    if let Some(data) = data {
        capture.frames.push(WsFrame { from: from.side, at: since.elapsed(), data });
    }
    if to.send(message).await.is_err() {
        tracing::debug!(from = ?from.side, "websocket peer already closed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upstream::ws_duplex;

    #[tokio::test]
    async fn messages_are_relayed_and_captured_in_order_then_close() {
        let (client_socket, mut client) = ws_duplex(8);
        let (upstream_socket, mut server) = ws_duplex(8);
        let relay =
            tokio::spawn(relay(client_socket, upstream_socket, Instant::now(), std::future::pending()));
        client.to_client.send(WsMessage::text("hello")).await.unwrap();
        let got = server.from_client.next().await.unwrap();
        assert_eq!(got, WsMessage::text("hello"));
        server.to_client.send(WsMessage::binary(vec![1, 2])).await.unwrap();
        assert_eq!(client.from_client.next().await.unwrap(), WsMessage::binary(vec![1, 2]));
        let close = WsMessage::Close(Some(CloseFrame { code: CloseCode::Normal, reason: "bye".into() }));
        client.to_client.send(close.clone()).await.unwrap();
        assert_eq!(server.from_client.next().await.unwrap(), close);
        drop(server);
        drop(client);
        let capture = relay.await.unwrap();
        let froms: Vec<_> = capture.frames.iter().map(|f| f.from).collect();
        assert_eq!(froms, [Side::Client, Side::Server]);
        assert_eq!(capture.frames[0].data, WsData::Text("hello".into()));
        let closed = capture.close.unwrap();
        assert_eq!(
            (closed.from, closed.code, closed.reason.as_deref()),
            (Side::Client, Some(1000), Some("bye"))
        );
    }

    #[tokio::test]
    async fn shutdown_ends_the_session_with_going_away() {
        let (client_socket, mut client) = ws_duplex(8);
        let (upstream_socket, mut server) = ws_duplex(8);
        let capture = relay(client_socket, upstream_socket, Instant::now(), async {}).await;
        assert!(capture.frames.is_empty());
        let away =
            |m: Option<WsMessage>| matches!(m, Some(WsMessage::Close(Some(f))) if f.code == CloseCode::Away);
        assert!(away(client.from_client.next().await));
        assert!(away(server.from_client.next().await));
    }
}
