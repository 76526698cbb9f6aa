//! Serving the office's router on a listener until told to stop.

use std::future::Future;

use tokio::net::TcpListener;

use super::routes::router;
use super::state::Office;

/// Serves the office on `listener` until the process ends. Tests bind `127.0.0.1:0`, read the
/// address, and `tokio::spawn(serve(listener, office))`.
pub async fn serve(listener: TcpListener, office: Office) -> std::io::Result<()> {
    serve_until(listener, office, std::future::pending()).await
}

/// Serves the office until `shutdown` completes, then finishes the requests in flight (a batch
/// being stored is committed and answered) and returns.
pub async fn serve_until<F>(
    listener: TcpListener,
    office: Office,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    axum::serve(listener, router(office))
        .with_graceful_shutdown(shutdown)
        .await
}
