//! Turning the bytes of a `POST /v1/batches` body into stored concerns: the content encoding,
//! gzip with a ceiling on what it may inflate to, the schema version, JSON errors worded for
//! the staff member who will read them in `concern-kiosk doctor`, and then — without HTTP —
//! the checks against the token, the Idempotency-Key and the field rules before the store.

use std::io::Read;

use flate2::read::MultiGzDecoder;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use thiserror::Error;
use uuid::Uuid;

use super::storage::StoreBatchError;
use super::validation::{InvalidField, echo, echo_quoted, validate_batch};
use crate::protocol::wire::{Batch, SCHEMA};

/// The largest body accepted on the wire. A kiosk batch is at most 256 KiB of JSON before
/// gzip; 4 MiB leaves room for a future kiosk with bigger batches (or no gzip) while keeping a
/// misbehaving client from filling the office's memory.
pub const MAX_COMPRESSED_BODY_BYTES: usize = 4 * 1024 * 1024;
/// The most JSON a body may inflate to. Text gzips about 5–10×, so an honest 4 MiB body stays
/// well under this; a "gzip bomb" (a few KiB inflating to gigabytes) is stopped here, having
/// cost at most this much memory.
pub const MAX_JSON_BYTES: usize = 16 * 1024 * 1024;

/// How the body is encoded, from the `Content-Encoding` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyEncoding {
    Gzip,
    Identity,
}

impl BodyEncoding {
    /// `None` (no header) means identity; the kiosk always sends gzip.
    pub fn from_header(value: Option<&str>) -> Result<BodyEncoding, IntakeError> {
        let Some(value) = value else {
            return Ok(BodyEncoding::Identity);
        };
        match value.trim().to_ascii_lowercase().as_str() {
            "gzip" | "x-gzip" => Ok(BodyEncoding::Gzip),
            "identity" | "" => Ok(BodyEncoding::Identity),
            _ => Err(IntakeError::UnsupportedEncoding(echo(value))),
        }
    }
}

/// Why a body is not a batch this office can store. Every value quoted from the body or a
/// header is already cut down ([`echo`]).
#[derive(Debug, Error)]
pub enum IntakeError {
    #[error(
        "the upload uses Content-Encoding `{0}`; this office accepts only `gzip` or no encoding"
    )]
    UnsupportedEncoding(String),
    #[error(
        "the upload inflates to more than {} MiB of JSON; the office refuses it (a kiosk batch is at most 256 KiB)",
        MAX_JSON_BYTES / (1024 * 1024)
    )]
    InflatesTooLarge,
    #[error("the upload is not valid gzip: {0}")]
    BadGzip(std::io::Error),
    #[error("the upload is not valid JSON: {0}")]
    BadJson(String),
    #[error("the upload has no `schema` field; this office accepts schema \"{SCHEMA}\"")]
    MissingSchema,
    #[error(
        "the upload uses schema {found}; this office accepts only schema \"{SCHEMA}\" — update the kiosk or the office so that they match"
    )]
    WrongSchema { found: String },
    #[error("the upload does not match schema \"{SCHEMA}\": {0}")]
    BadBatch(String),
}

/// A batch as decoded, with the SHA-256 (hex) of its JSON: the fingerprint that tells a
/// retry (the same bytes) from another batch under the same id.
#[derive(Debug)]
pub struct DecodedBatch {
    pub batch: Batch,
    pub json_sha256: String,
}

/// Reads only the `schema` field, so that a batch of another version is answered "wrong
/// schema" rather than with whatever field that version happens to have changed. The rename
/// makes serde's messages say "Batch" like the real parse does.
#[derive(Deserialize)]
#[serde(rename = "Batch")]
struct SchemaProbe {
    schema: Option<serde_json::Value>,
}

/// Inflates (when gzip'd) and parses a batch body.
pub fn decode_batch(body: &[u8], encoding: BodyEncoding) -> Result<DecodedBatch, IntakeError> {
    let inflated;
    let json = match encoding {
        BodyEncoding::Identity => body,
        BodyEncoding::Gzip => {
            inflated = inflate(body)?;
            inflated.as_slice()
        }
    };
    let quoted = |e: serde_json::Error| echo_quoted(&e.to_string());
    let probe: SchemaProbe =
        serde_json::from_slice(json).map_err(|e| IntakeError::BadJson(quoted(e)))?;
    match probe.schema {
        None => return Err(IntakeError::MissingSchema),
        Some(serde_json::Value::String(s)) if s == SCHEMA => {}
        Some(serde_json::Value::String(s)) => {
            return Err(IntakeError::WrongSchema {
                found: format!("\"{}\"", echo(&s)),
            });
        }
        Some(other) => {
            return Err(IntakeError::WrongSchema {
                found: echo(&other.to_string()),
            });
        }
    }
    let batch = serde_json::from_slice(json).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => IntakeError::BadBatch(quoted(e)),
        _ => IntakeError::BadJson(quoted(e)),
    })?;
    Ok(DecodedBatch {
        batch,
        json_sha256: format!("{:x}", Sha256::digest(json)),
    })
}

/// Why a batch was not stored, for the route to turn into an HTTP answer.
#[derive(Debug, Error)]
pub enum Refusal {
    #[error(transparent)]
    Intake(#[from] IntakeError),
    #[error(
        "this token belongs to kiosk `{token_kiosk}` but the batch comes from kiosk `{batch_kiosk}`: each kiosk must use its own token"
    )]
    WrongKiosk {
        token_kiosk: String,
        batch_kiosk: String,
    },
    #[error(
        "the Idempotency-Key header `{key}` is not the batch's batch_id {batch_id}: they must be the same"
    )]
    KeyMismatch { key: String, batch_id: Uuid },
    #[error(transparent)]
    Invalid(#[from] InvalidField),
    #[error(transparent)]
    Store(#[from] StoreBatchError),
}

/// One `POST /v1/batches` as the office received it, after the token was identified.
#[derive(Debug, Clone, Copy)]
pub struct Upload<'a> {
    /// The kiosk the bearer token belongs to.
    pub token_kiosk: &'a str,
    pub encoding: BodyEncoding,
    pub idempotency_key: Option<&'a str>,
    pub body: &'a [u8],
}

/// Decodes and checks one upload: the whole intake but the HTTP and the storing. Only a batch
/// that passed every check comes back, with the SHA-256 of its JSON for
/// [`store_batch`](super::database::Database::store_batch).
pub fn receive_upload(upload: Upload<'_>) -> Result<DecodedBatch, Refusal> {
    let decoded = decode_batch(upload.body, upload.encoding)?;
    let batch = &decoded.batch;
    if batch.kiosk_id != upload.token_kiosk {
        return Err(Refusal::WrongKiosk {
            token_kiosk: upload.token_kiosk.to_owned(),
            batch_kiosk: echo(&batch.kiosk_id),
        });
    }
    if let Some(key) = upload.idempotency_key {
        let matches = Uuid::parse_str(key.trim()).is_ok_and(|k| k == batch.batch_id);
        if !matches {
            return Err(Refusal::KeyMismatch {
                key: echo(key),
                batch_id: batch.batch_id,
            });
        }
    }
    validate_batch(batch)?;
    Ok(decoded)
}

/// Inflates a gzip body (several concatenated members are one body, as RFC 1952 allows),
/// stopping one byte past [`MAX_JSON_BYTES`].
fn inflate(body: &[u8]) -> Result<Vec<u8>, IntakeError> {
    let limit = u64::try_from(MAX_JSON_BYTES).unwrap_or(u64::MAX) + 1;
    let mut inflated = Vec::new();
    MultiGzDecoder::new(body)
        .take(limit)
        .read_to_end(&mut inflated)
        .map_err(IntakeError::BadGzip)?;
    if inflated.len() > MAX_JSON_BYTES {
        return Err(IntakeError::InflatesTooLarge);
    }
    Ok(inflated)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    const EMPTY_BATCH: &str = r#"{"schema": "concern-kiosk.batch/1", "kiosk_id": "wanjia-01",
        "batch_id": "0192f7a0-0000-7000-8000-000000000001",
        "sent_at": "2026-11-26T17:30:00+08:00", "concerns": []}"#;

    #[test]
    fn an_empty_batch_decodes_gzipped_or_not() {
        let plain = decode_batch(EMPTY_BATCH.as_bytes(), BodyEncoding::Identity).unwrap();
        let zipped = decode_batch(&gzip(EMPTY_BATCH.as_bytes()), BodyEncoding::Gzip).unwrap();
        assert_eq!(plain.batch, zipped.batch);
        assert_eq!(plain.json_sha256, zipped.json_sha256);
        assert!(plain.batch.concerns.is_empty());
    }

    #[test]
    fn each_kind_of_bad_body_has_its_own_message() {
        let message = |body: &[u8], encoding| decode_batch(body, encoding).unwrap_err().to_string();
        assert!(
            message(b"{\"schema\": ", BodyEncoding::Identity)
                .starts_with("the upload is not valid JSON: EOF while parsing a value at line 1")
        );
        assert!(
            message(b"\x1f\x8bnot really", BodyEncoding::Gzip)
                .starts_with("the upload is not valid gzip")
        );
        let v2 = EMPTY_BATCH.replace("batch/1", "batch/2");
        assert_eq!(
            message(v2.as_bytes(), BodyEncoding::Identity),
            "the upload uses schema \"concern-kiosk.batch/2\"; this office accepts only schema \"concern-kiosk.batch/1\" — update the kiosk or the office so that they match"
        );
        let no_kiosk = EMPTY_BATCH.replace("\"kiosk_id\"", "\"kiosk\"");
        assert!(
            message(no_kiosk.as_bytes(), BodyEncoding::Identity)
                .contains("missing field `kiosk_id` at line 3")
        );
        assert!(matches!(
            BodyEncoding::from_header(Some("br")),
            Err(IntakeError::UnsupportedEncoding(_))
        ));
    }

    /// The example in `docs/upload-api.md` is a batch this office accepts as it stands.
    #[test]
    fn the_documented_example_batch_decodes() {
        let doc = include_str!("../../docs/upload-api.md");
        let after_heading = doc
            .split("### Example batch")
            .nth(1)
            .expect("the example heading");
        let example = after_heading
            .split("```json\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("a json block after the heading");
        let batch = decode_batch(&gzip(example.as_bytes()), BodyEncoding::Gzip)
            .unwrap()
            .batch;
        crate::office::validation::validate_batch(&batch).unwrap();
        assert_eq!(batch.concerns.len(), 2);
        assert_eq!(batch.concerns[0].ticket, "A1126-007");
        assert_eq!(batch.concerns[1].phone, None);
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_ceiling() {
        let bomb = gzip(&vec![b' '; MAX_JSON_BYTES + 1]);
        assert!(bomb.len() < 64 * 1024);
        assert!(matches!(
            decode_batch(&bomb, BodyEncoding::Gzip),
            Err(IntakeError::InflatesTooLarge)
        ));
    }
}
