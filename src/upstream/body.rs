//! The streaming body type shared by the proxy and every [`super::Upstream`].

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http_body::Frame;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full, StreamBody};

/// Any error a body can fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A streaming HTTP body. Unsync so that bodies built from arbitrary streams
/// (paced replays, channels) qualify; hyper only needs `Send`.
pub type Body = UnsyncBoxBody<Bytes, BoxError>;

/// A body with no bytes.
pub fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

/// A body of exactly these bytes, in one frame.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed_unsync()
}

/// A body that yields each item of `chunks` as one data frame, when the
/// stream yields it: the client sees each chunk (an SSE event, say) as soon as
/// it is produced.
pub fn from_stream<S, E>(chunks: S) -> Body
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Into<BoxError>,
{
    StreamBody::new(chunks.map(|chunk| chunk.map(Frame::data).map_err(Into::into))).boxed_unsync()
}

/// Box any `Bytes` body, e.g. hyper's `Incoming`.
pub fn boxed<B>(body: B) -> Body
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    body.map_err(Into::into).boxed_unsync()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn collect(body: Body) -> Bytes {
        body.collect().await.unwrap().to_bytes()
    }

    #[tokio::test]
    async fn full_and_empty_yield_their_bytes() {
        assert_eq!(collect(full("abc")).await, "abc");
        assert!(collect(empty()).await.is_empty());
    }

    #[tokio::test]
    async fn stream_body_yields_one_frame_per_chunk() {
        let chunks = futures_util::stream::iter(["a", "b"].map(|s| Ok::<_, BoxError>(Bytes::from(s))));
        let mut body = from_stream(chunks);
        let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(first, "a");
        assert_eq!(collect(body).await, "b");
    }
}
