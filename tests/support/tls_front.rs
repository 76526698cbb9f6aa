//! A TLS endpoint on 127.0.0.1 in front of a plain-HTTP office, as the office's reverse proxy
//! would be: the kiosk trusts it only through `upload.ca_file`.

use std::sync::Arc;

use base64::Engine;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate and its PKCS#8 key, as DER.
pub struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl Identity {
    /// A new self-signed certificate for `name`, with its PEM for the kiosk's `ca_file`.
    pub fn self_signed(name: &str) -> (Identity, String) {
        let certified = rcgen::generate_simple_self_signed(vec![name.to_string()])
            .expect("a self-signed certificate");
        let pem = certified.cert.pem();
        let identity = Identity {
            chain: vec![CertificateDer::from(certified.cert.der().to_vec())],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
                certified.signing_key.serialize_der(),
            )),
        };
        (identity, pem)
    }

    /// A certificate and an unencrypted PKCS#8 key (`BEGIN PRIVATE KEY`) from PEM text, as
    /// `openssl req -nodes` writes them.
    pub fn from_pem(certificate: &str, key: &str) -> Identity {
        Identity {
            chain: vec![CertificateDer::from(pem_body(certificate, "CERTIFICATE"))],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pem_body(key, "PRIVATE KEY"))),
        }
    }
}

/// The DER inside the first `-----BEGIN {label}-----` block of `pem`.
fn pem_body(pem: &str, label: &str) -> Vec<u8> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let body: String = pem
        .lines()
        .skip_while(|line| line.trim() != begin)
        .skip(1)
        .take_while(|line| line.trim() != end)
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .unwrap_or_else(|e| panic!("the {label} PEM block is not base64: {e}"))
}

/// Serves TLS with `identity` on `port` of 127.0.0.1 (0: a free one), forwarding each
/// connection to `upstream`; returns the port. Runs until `runtime` is dropped.
pub fn tls_front(
    runtime: &tokio::runtime::Runtime,
    upstream: std::net::SocketAddr,
    identity: Identity,
    port: u16,
) -> u16 {
    let config = ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_no_client_auth()
    .with_single_cert(identity.chain, identity.key)
    .expect("the TLS certificate and key");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(("127.0.0.1", port)))
        .expect("bind the TLS front");
    let port = listener.local_addr().expect("the TLS front's port").port();
    runtime.spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that does not trust the certificate hangs up: nothing to forward.
                let Ok(mut tls) = acceptor.accept(client).await else {
                    return;
                };
                if let Ok(mut office) = tokio::net::TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut office).await;
                }
            });
        }
    });
    port
}
