//! "Sniff, then rewind": read the first bytes of a tunnel to see whether it
//! carries TLS, then hand on a stream that yields those bytes again first.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf as _, Bytes};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, ReadBuf};

/// The first byte of a TLS record carrying a handshake (the ClientHello).
const TLS_HANDSHAKE: u8 = 0x16;

/// A stream that replays `prefix` before reading from `inner`.
pub(crate) struct Rewind<T> {
    prefix: Bytes,
    inner: T,
}

/// What a tunnel carries, judged from its first bytes.
pub(crate) struct Sniffed<T> {
    /// Whether the client opened with a TLS handshake.
    pub(crate) tls: bool,
    /// The tunnel, first bytes included.
    pub(crate) io: Rewind<T>,
}

/// Read the first bytes the client sent; `None` if it closed without sending any.
pub(crate) async fn sniff<T: AsyncRead + Unpin>(mut inner: T) -> io::Result<Option<Sniffed<T>>> {
    let mut buf = vec![0u8; 512];
    let n = inner.read(&mut buf).await?;
    if n == 0 {
        return Ok(None);
    }
    buf.truncate(n);
    let tls = buf[0] == TLS_HANDSHAKE;
    Ok(Some(Sniffed { tls, io: Rewind { prefix: Bytes::from(buf), inner } }))
}

impl<T: AsyncRead + Unpin> AsyncRead for Rewind<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.prefix.is_empty() {
            let n = self.prefix.len().min(buf.remaining());
            buf.put_slice(&self.prefix[..n]);
            self.prefix.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Rewind<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tls_is_recognised_and_bytes_are_not_lost() {
        let hello: &[u8] = &[0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5];
        let sniffed = sniff(hello).await.unwrap().unwrap();
        assert!(sniffed.tls);
        let mut all = Vec::new();
        let mut io = sniffed.io;
        io.read_to_end(&mut all).await.unwrap();
        assert_eq!(all, hello);
    }

    #[tokio::test]
    async fn plain_http_is_not_tls() {
        let sniffed = sniff(&b"GET / HTTP/1.1\r\n\r\n"[..]).await.unwrap().unwrap();
        assert!(!sniffed.tls);
    }

    #[tokio::test]
    async fn silent_close_is_none() {
        assert!(sniff(&b""[..]).await.unwrap().is_none());
    }
}
