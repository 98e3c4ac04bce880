//! The library proxy in-process: [`TestProxy`] on 127.0.0.1:0 with its own
//! CA home, any [`Upstream`] and a [`CollectingTap`] in place of the recorder;
//! [`CollectingTap::wait_for`] waits (explicitly notified) until N exchanges arrived.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use dispatch_vcr::ca::{CertAuthority, LeafIssuer};
use dispatch_vcr::exchange::{Exchange, Tap};
use dispatch_vcr::proxy::{Proxy, ProxyConfig, Wiring};
use dispatch_vcr::upstream::Upstream;
use tempfile::TempDir;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::GUARD;

/// A tap that keeps every exchange and wakes waiters.
#[derive(Default)]
pub struct CollectingTap {
    exchanges: Mutex<Vec<Exchange>>,
    changed: Notify,
}

impl Tap for CollectingTap {
    fn record(&self, exchange: Exchange) {
        self.exchanges.lock().unwrap().push(exchange);
        self.changed.notify_waiters();
    }
}

impl CollectingTap {
    /// The exchanges so far.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.exchanges.lock().unwrap().clone()
    }

    /// Wait until at least `n` exchanges arrived; panics after [`GUARD`].
    pub async fn wait_for(&self, n: usize) -> Vec<Exchange> {
        let wait = async {
            loop {
                let notified = self.changed.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                let exchanges = self.exchanges();
                if exchanges.len() >= n {
                    return exchanges;
                }
                notified.await;
            }
        };
        tokio::time::timeout(GUARD, wait).await.unwrap_or_else(|_| panic!("fewer than {n} exchanges arrived"))
    }
}

/// The library proxy on 127.0.0.1:0 with a CA of its own and a collecting tap.
pub struct TestProxy {
    /// Where it listens.
    pub addr: SocketAddr,
    /// What it captured.
    pub tap: Arc<CollectingTap>,
    /// Its CA's certificate (what clients must trust).
    pub ca_path: PathBuf,
    /// Holds the CA; removed with the proxy.
    _home: TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<JoinHandle<dispatch_vcr::Result<dispatch_vcr::proxy::Served>>>,
}

impl TestProxy {
    /// A proxy with the default config in front of `upstream`.
    pub async fn start(upstream: impl Upstream) -> Self {
        Self::start_with(Arc::new(upstream), ProxyConfig::default()).await
    }

    /// A proxy with `config` in front of `upstream`.
    pub async fn start_with(upstream: Arc<dyn Upstream>, config: ProxyConfig) -> Self {
        let home = tempfile::tempdir().unwrap();
        let (ca, _) = CertAuthority::init(home.path(), false).unwrap();
        let ca_path = ca.paths().cert.clone();
        let leaves = Arc::new(LeafIssuer::new(Arc::new(ca)).unwrap());
        let proxy = Proxy::bind(&config).await.unwrap();
        let addr = proxy.local_addr().unwrap();
        let tap = Arc::new(CollectingTap::default());
        let wiring = Wiring { leaves, upstream, tap: tap.clone() };
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(proxy.serve(wiring, async move {
            let _ = stopped.await;
        }));
        Self { addr, tap, ca_path, _home: home, stop: Some(stop), task: Some(task) }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Ask it to shut down and wait until `serve` returned.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(GUARD, task).await.expect("proxy did not stop").unwrap().unwrap();
        }
    }
}
