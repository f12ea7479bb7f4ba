//! `claimsearch serve`: the process around the library's HTTP server — the
//! async runtime, logging to stderr, the listening socket and the signals
//! that stop it.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, Result};
use claimsearch::serve;

/// Serves searches over HTTP on `addr` until SIGINT or SIGTERM.
///
/// Prints one line, `claimsearch: listening on http://ADDR` (the bound
/// address, so port 0 works), then logs each request on stderr (`RUST_LOG`
/// filters; `info` by default).
pub fn run(index_dir: &Path, addr: SocketAddr, options: serve::Options) -> Result<()> {
    init_tracing();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let served = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let bound = listener.local_addr().context("reading the bound address")?;
        if !bound.ip().is_loopback() {
            tracing::warn!(%bound, "listening beyond loopback: anyone who can reach this address can search the index");
        }
        eprintln!("claimsearch: listening on http://{bound}");
        serve::serve_with(listener, index_dir, options, shutdown_signal())
            .await
            .context("serving HTTP")
    });
    // `serve` already gave requests in flight their grace; a search still
    // running on the blocking pool is not waited for much longer.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    served
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .try_init();
}

/// Resolves on the first SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
