//! Clients through a proxy: raw CONNECT tunnels ([`connect_tunnel`],
//! [`connect_tunnel_status`]), TLS over them ([`tls_tunnel`]), a hyper
//! HTTP/1.1 or HTTP/2 client ([`ProxiedClient`]; [`text`] reads a response
//! body) and WebSockets ([`ws_connect`]; [`text_message`] makes a message);
//! [`record_with_client`] starts `record` with such a client through it.

use std::net::SocketAddr;
use std::path::Path;

use dispatch_vcr::upstream::Body;
use http::{Request, Response, StatusCode, Version, header};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use super::{Bin, Running, TestUpstream, client_tls};

/// Open a CONNECT tunnel to `authority`; returns the status and the stream.
pub async fn connect_tunnel_status(proxy: SocketAddr, authority: &str) -> (u16, TcpStream) {
    let mut tcp = TcpStream::connect(proxy).await.unwrap();
    let head = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n");
    tcp.write_all(head.as_bytes()).await.unwrap();
    // Read the response head byte by byte so no tunnel byte is consumed.
    let mut response = Vec::new();
    while !response.ends_with(b"\r\n\r\n") {
        let byte = tcp.read_u8().await.unwrap();
        response.push(byte);
    }
    let text = String::from_utf8_lossy(&response);
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap();
    (status, tcp)
}

/// Open a CONNECT tunnel to `authority`, asserting `200`.
pub async fn connect_tunnel(proxy: SocketAddr, authority: &str) -> TcpStream {
    let (status, tcp) = connect_tunnel_status(proxy, authority).await;
    assert_eq!(status, 200, "CONNECT {authority}");
    tcp
}

/// TLS over a CONNECT tunnel to `host:port`, trusting `ca_pem`.
pub async fn tls_tunnel(
    proxy: SocketAddr,
    ca_pem: &Path,
    host: &str,
    port: u16,
    alpn: &[&[u8]],
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let tcp = connect_tunnel(proxy, &format!("{host}:{port}")).await;
    let name = ServerName::try_from(host.to_owned()).unwrap();
    client_tls(ca_pem, alpn).connect(name, tcp).await.unwrap()
}

/// Which HTTP a [`ProxiedClient`] speaks inside the tunnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Http {
    /// HTTP/1.1 (ALPN http/1.1).
    H1,
    /// HTTP/2 (ALPN h2).
    H2,
}

enum Sender {
    H1(hyper::client::conn::http1::SendRequest<Body>),
    H2(hyper::client::conn::http2::SendRequest<Body>),
}

/// A hyper client whose one connection goes through the proxy to `host:443`.
pub struct ProxiedClient {
    sender: Sender,
}

impl ProxiedClient {
    /// Tunnel to `host:443`, TLS trusting `ca_pem` (the proxy's CA), then the handshake for `http`.
    pub async fn connect(proxy: SocketAddr, ca_pem: &Path, host: &str, http: Http) -> Self {
        let alpn: &[&[u8]] = match http {
            Http::H1 => &[b"http/1.1"],
            Http::H2 => &[b"h2"],
        };
        let tls = tls_tunnel(proxy, ca_pem, host, 443, alpn).await;
        let io = TokioIo::new(tls);
        let sender = match http {
            Http::H1 => {
                let (sender, connection) = hyper::client::conn::http1::handshake(io).await.unwrap();
                tokio::spawn(connection.with_upgrades());
                Sender::H1(sender)
            }
            Http::H2 => {
                let (sender, connection) =
                    hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await.unwrap();
                tokio::spawn(connection);
                Sender::H2(sender)
            }
        };
        Self { sender }
    }

    /// Send `request` (absolute URL); HTTP/1.1 gets origin-form plus `Host`.
    /// Over HTTP/1.1, read each response to its end before sending the next.
    pub async fn send(&mut self, request: Request<Body>) -> Response<Incoming> {
        self.try_send(request).await.unwrap()
    }

    /// [`ProxiedClient::send`], for requests whose connection may die before a response head.
    pub async fn try_send(&mut self, mut request: Request<Body>) -> hyper::Result<Response<Incoming>> {
        match &mut self.sender {
            Sender::H1(sender) => {
                // The previous response must have been read to its end.
                sender.ready().await?;
                let uri = request.uri().clone();
                let host = uri.authority().unwrap().as_str().to_owned();
                request.headers_mut().entry(header::HOST).or_insert(host.parse().unwrap());
                *request.uri_mut() = uri.path_and_query().unwrap().as_str().parse().unwrap();
                sender.send_request(request).await
            }
            Sender::H2(sender) => {
                *request.version_mut() = Version::HTTP_2;
                sender.send_request(request).await
            }
        }
    }
}

/// The whole body as text.
pub async fn text(response: Response<Incoming>) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// A WebSocket to `wss://host/path` through the proxy, trusting `ca_pem`.
pub async fn ws_connect(
    proxy: SocketAddr,
    ca_pem: &Path,
    host: &str,
    path: &str,
) -> WebSocketStream<tokio_rustls::client::TlsStream<TcpStream>> {
    let tls = tls_tunnel(proxy, ca_pem, host, 443, &[b"http/1.1"]).await;
    let (socket, response) =
        tokio_tungstenite::client_async(format!("wss://{host}{path}"), tls).await.unwrap();
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    socket
}

/// A text message.
pub fn text_message(text: &str) -> Message {
    Message::text(text)
}

/// `record -o OUT` run by `bin` through `upstream`, and an HTTP/1.1 client to
/// `api.openai.com` through it (trusting the CA `record` made).
pub async fn record_with_client(bin: &Bin, upstream: &TestUpstream, out: &Path) -> (Running, ProxiedClient) {
    let running = bin.spawn(upstream.record_args(out, &[])).await;
    let ca = bin.home.path().join("ca/ca-cert.pem");
    let client = ProxiedClient::connect(running.addr, &ca, "api.openai.com", Http::H1).await;
    (running, client)
}
