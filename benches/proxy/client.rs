//! The load generator's client: HTTP/1.1 keep-alive over TLS, straight to the
//! upstream or through a proxy's CONNECT tunnel, the same code either way.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, header};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::Fallible;

/// A dispatch-sized request body (a `responses` call with a short prompt).
const REQUEST_JSON: &str = concat!(
    r#"{"model":"gpt-5.5","stream":false,"store":false,"instructions":"You are a helpful assistant.","#,
    r#""input":[{"role":"user","content":[{"type":"input_text","text":"What is six times seven?"}]}]}"#
);

/// A bearer the recorder must redact, as a real dispatch carries.
const BEARER: &str = "Bearer sk-proj-benchbenchbenchbenchbench0001";

/// How requests reach the upstream.
#[derive(Clone)]
pub struct Route {
    /// The first hop.
    pub hop: Hop,
    /// TLS towards the server the client talks to (the upstream, or the
    /// proxy's interception), trusting that side's CA.
    pub tls: Arc<ClientConfig>,
}

/// Where a client's TCP connection goes.
#[derive(Debug, Clone, Copy)]
pub enum Hop {
    /// Straight to the upstream at this address.
    Direct(SocketAddr),
    /// To the proxy at this address, which is asked to CONNECT.
    Proxy(SocketAddr),
}

/// One keep-alive HTTP/1.1 connection.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
    host: String,
}

impl Route {
    /// Open a connection to `host` (a `*.bench.test` name): TCP, CONNECT
    /// when proxied, TLS with `host` as SNI, the HTTP/1.1 handshake.
    pub async fn open(&self, host: &str) -> Fallible<Conn> {
        let tcp = match self.hop {
            Hop::Proxy(proxy) => connect_tunnel(proxy, host).await?,
            Hop::Direct(upstream) => TcpStream::connect(upstream).await?,
        };
        tcp.set_nodelay(true)?;
        let name = ServerName::try_from(host.to_owned())?;
        let tls = TlsConnector::from(self.tls.clone()).connect(name, tcp).await?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
        tokio::spawn(connection);
        Ok(Conn { sender, host: host.to_owned() })
    }
}

impl Conn {
    /// POST a dispatch and read the whole answer; returns its length.
    pub async fn dispatch(&mut self) -> Fallible<usize> {
        let request = Request::post("/v1/responses")
            .header(header::HOST, &self.host)
            .header(header::AUTHORIZATION, BEARER)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json")
            .body(Full::new(Bytes::from_static(REQUEST_JSON.as_bytes())))?;
        let mut received = 0;
        self.exchange(request, |chunk| received += chunk.len()).await?;
        Ok(received)
    }

    /// GET `path`, handing each body chunk to `on_chunk` the moment it arrives.
    pub async fn get(&mut self, path: &str, on_chunk: impl FnMut(&[u8])) -> Fallible<()> {
        let request = Request::get(path)
            .header(header::HOST, &self.host)
            .header(header::AUTHORIZATION, BEARER)
            .body(Full::new(Bytes::new()))?;
        self.exchange(request, on_chunk).await
    }

    async fn exchange(
        &mut self,
        request: Request<Full<Bytes>>,
        mut on_chunk: impl FnMut(&[u8]),
    ) -> Fallible<()> {
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        if !response.status().is_success() {
            let status = response.status();
            let body = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
            return Err(format!("{} answered {status}: {text}", self.host).into());
        }
        let mut body = response.into_body();
        while let Some(frame) = body.frame().await {
            if let Some(data) = frame?.data_ref() {
                on_chunk(data);
            }
        }
        Ok(())
    }
}

/// `CONNECT host:443` through `proxy`; returns the tunnel once it is open.
async fn connect_tunnel(proxy: SocketAddr, host: &str) -> Fallible<TcpStream> {
    let mut tcp = TcpStream::connect(proxy).await?;
    tcp.set_nodelay(true)?;
    tcp.write_all(format!("CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n").as_bytes()).await?;
    // The proxy says nothing after its answer until the client speaks, so
    // reading whole segments cannot swallow tunnel bytes.
    let mut head = Vec::with_capacity(128);
    while !head.ends_with(b"\r\n\r\n") {
        let mut buf = [0u8; 256];
        let n = tcp.read(&mut buf).await?;
        if n == 0 {
            return Err(format!("{proxy} closed the connection during CONNECT").into());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let status = head.split(|b| *b == b' ').nth(1).unwrap_or_default();
    if status != b"200" {
        return Err(format!("CONNECT {host} through {proxy}: {}", String::from_utf8_lossy(&head)).into());
    }
    Ok(tcp)
}
