//! Replaying a recorded WebSocket session as the server side.
//!
//! The recorded messages are a script played in order: a client message
//! waits until the client has sent one (whatever it says: the checks judge
//! content, replay keeps the conversation's rhythm), a server message is
//! sent (after its recorded gap with `--pace recorded`). So each server
//! message goes out only after the client messages that preceded it in the
//! recording have arrived. Then the recorded close is played: a server
//! close is sent; otherwise the session stays open until the client ends it.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tracing::Instrument as _;

use super::Pace;
use crate::cassette::Side;
use crate::cassette::model::{Payload, WebSocketSession, WsClose};
use crate::upstream::{WsMessage, WsPeer, WsSocket, ws_duplex};

/// Messages buffered each way between the relay and the script.
const CAPACITY: usize = 16;

/// The upstream end of a replayed session; the script runs in its own task.
pub(super) fn play(session: WebSocketSession, pace: Pace) -> WsSocket {
    let (socket, peer) = ws_duplex(CAPACITY);
    tokio::spawn(script(session, peer, pace).in_current_span());
    socket
}

/// Play `session` against the client behind `peer`.
async fn script(session: WebSocketSession, mut peer: WsPeer, pace: Pace) {
    let mut previous_ms = 0;
    for message in &session.messages {
        let gap = message.t_ms.saturating_sub(previous_ms);
        previous_ms = previous_ms.max(message.t_ms);
        match message.from {
            Side::Client => {
                if !client_sent(&mut peer).await {
                    tracing::debug!("client ended the replayed session early");
                    return;
                }
            }
            Side::Server => {
                if pace == Pace::Recorded && gap > 0 {
                    tokio::time::sleep(Duration::from_millis(gap)).await;
                }
                let Some(out) = message_of(&message.payload) else { continue };
                if peer.to_client.send(out).await.is_err() {
                    return;
                }
            }
        }
    }
    if let Some(close) = session.close.as_ref().filter(|c| c.from == Side::Server) {
        let _ = peer.to_client.send(close_message(close)).await;
    }
    // Until the client answers the close, or ends the session itself.
    while client_sent(&mut peer).await {}
}

/// Wait for the client's next data message; `false` when it closed or left.
async fn client_sent(peer: &mut WsPeer) -> bool {
    while let Some(message) = peer.from_client.next().await {
        match message {
            WsMessage::Text(_) | WsMessage::Binary(_) => return true,
            WsMessage::Close(_) => return false,
            WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_) => {}
        }
    }
    false
}

/// A recorded payload as a message: text stays text, base64 is binary.
fn message_of(payload: &Payload) -> Option<WsMessage> {
    match payload {
        Payload::Text(text) => Some(WsMessage::text(text.as_str())),
        // The loader checked the base64; a failure here would be a bug, so skip rather than abort.
        Payload::Base64(_) => payload.bytes().ok().map(WsMessage::binary),
    }
}

fn close_message(close: &WsClose) -> WsMessage {
    let frame = close.code.map(|code| CloseFrame {
        code: CloseCode::from(code),
        reason: close.reason.clone().unwrap_or_default().into(),
    });
    WsMessage::Close(frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cassette::model::WsMessage as Recorded;

    fn recorded(from: Side, text: &str) -> Recorded {
        Recorded { from, t_ms: 0, payload: Payload::Text(text.into()) }
    }

    #[tokio::test]
    async fn server_messages_wait_for_the_client_messages_before_them() {
        let session = WebSocketSession {
            messages: vec![
                recorded(Side::Server, "hello"),
                recorded(Side::Client, "q1"),
                recorded(Side::Server, "a1"),
                recorded(Side::Server, "a1b"),
            ],
            close: Some(WsClose { from: Side::Server, code: Some(1000), reason: Some("done".into()) }),
        };
        let mut socket = play(session, Pace::None);
        assert_eq!(socket.next().await.unwrap().unwrap(), WsMessage::text("hello"));
        // Nothing more is due until the client speaks.
        let early = futures_util::FutureExt::now_or_never(socket.next());
        assert!(early.is_none(), "a1 must wait for q1");
        socket.send(WsMessage::text("anything")).await.unwrap();
        assert_eq!(socket.next().await.unwrap().unwrap(), WsMessage::text("a1"));
        assert_eq!(socket.next().await.unwrap().unwrap(), WsMessage::text("a1b"));
        let WsMessage::Close(Some(frame)) = socket.next().await.unwrap().unwrap() else { panic!("close") };
        assert_eq!((u16::from(frame.code), frame.reason.as_str()), (1000, "done"));
        socket.send(WsMessage::Close(None)).await.unwrap();
        assert!(socket.next().await.is_none(), "the script ends after the client's close");
    }

    #[tokio::test]
    async fn binary_messages_replay_as_binary() {
        let message = Recorded { from: Side::Server, t_ms: 0, payload: Payload::Base64("AAH/".into()) };
        let mut socket = play(WebSocketSession { messages: vec![message], close: None }, Pace::None);
        assert_eq!(socket.next().await.unwrap().unwrap(), WsMessage::binary(vec![0, 1, 255]));
    }

    #[tokio::test]
    async fn a_client_that_leaves_ends_the_script() {
        let session = WebSocketSession { messages: vec![recorded(Side::Client, "q")], close: None };
        let mut socket = play(session, Pace::None);
        socket.close().await.unwrap();
        assert!(socket.next().await.is_none());
    }
}
