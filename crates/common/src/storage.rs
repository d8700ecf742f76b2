//! Object storage for what users upload (posters, videos and their renditions):
//! a local folder by default, an S3-compatible bucket when `S3_BUCKET` is set.
//! Large objects go in and out as streams, never whole in memory.

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::chunked::ChunkedStore;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// How much of a stored file one read takes (the folder store): a 1 MiB range
/// is one read, one hop to the blocking pool and one chunk to write. Each
/// response in flight holds up to one chunk (twice while the server copies it
/// into its write buffer), so memory per slow client is bounded by about 2 MiB.
/// Measured on the benchmark machine, random 1 MiB ranges: 256 KiB reads gave
/// 0.74 GiB/s, 1 MiB reads 1.0-1.3 GiB/s, 64 KiB reads 0.7.
const READ_CHUNK: usize = 1024 * 1024;

/// Where uploads are kept; every key is an environment variable of the same name
/// in upper case (`STORAGE_DIR`, `S3_BUCKET`, ...).
#[derive(Debug, Clone, Deserialize)]
pub struct StorageSettings {
    /// Local folder of stored objects when no S3 bucket is configured.
    #[serde(default = "d_storage_dir")]
    pub storage_dir: String,
    #[serde(default)]
    pub s3_bucket: Option<String>,
    #[serde(default)]
    pub s3_region: Option<String>,
    /// For S3-compatible stores (MinIO, R2, ...).
    #[serde(default)]
    pub s3_endpoint: Option<String>,
    #[serde(default)]
    pub s3_access_key_id: Option<String>,
    #[serde(default)]
    pub s3_secret_access_key: Option<SecretString>,
    #[serde(default)]
    pub s3_allow_http: bool,
}

fn d_storage_dir() -> String {
    ".run/storage".to_owned()
}

pub use object_store::Error as StorageError;

/// A stored object's size and where its bytes are.
#[derive(Debug, Clone)]
pub struct Stored {
    pub size: u64,
}

/// Object storage shared by a service's replicas.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    /// The folder store: each object is the file `STORAGE_DIR/<key>`.
    local: bool,
}

impl Storage {
    pub fn open(settings: &StorageSettings) -> anyhow::Result<Self> {
        let local = settings
            .s3_bucket
            .as_deref()
            .is_none_or(|bucket| bucket.trim().is_empty());
        let store: Arc<dyn ObjectStore> = match &settings.s3_bucket {
            Some(bucket) if !bucket.trim().is_empty() => {
                // AWS_* variables (instance roles, web identity) fill what is not set here.
                let mut builder = AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .with_allow_http(settings.s3_allow_http);
                if let Some(region) = &settings.s3_region {
                    builder = builder.with_region(region);
                }
                if let Some(endpoint) = &settings.s3_endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                if let Some(id) = &settings.s3_access_key_id {
                    builder = builder.with_access_key_id(id);
                }
                if let Some(secret) = &settings.s3_secret_access_key {
                    builder = builder.with_secret_access_key(secret.expose_secret());
                }
                Arc::new(builder.build()?)
            }
            _ => {
                std::fs::create_dir_all(&settings.storage_dir).map_err(|e| {
                    anyhow::anyhow!("cannot create STORAGE_DIR {}: {e}", settings.storage_dir)
                })?;
                // Files are read in chunks of READ_CHUNK, each on the blocking
                // pool (object_store's own reads 8 KiB a hop: 220 MiB/s of
                // ranges on the benchmark machine, against 2.8 GiB/s from nginx).
                let local = LocalFileSystem::new_with_prefix(&settings.storage_dir)?;
                Arc::new(ChunkedStore::new(Arc::new(local), READ_CHUNK))
            }
        };
        Ok(Self { store, local })
    }

    /// Whether objects are files of the local folder (`STORAGE_DIR/<key>`),
    /// which a gateway on the same disk can serve itself.
    pub fn is_local(&self) -> bool {
        self.local
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        self.store
            .put(&Path::from(key), PutPayload::from(bytes))
            .await
            .map(|_| ())
    }

    /// A whole (small) object.
    pub async fn get(&self, key: &str) -> Result<Bytes, StorageError> {
        self.store.get(&Path::from(key)).await?.bytes().await
    }

    pub async fn size(&self, key: &str) -> Result<u64, StorageError> {
        Ok(self.store.head(&Path::from(key)).await?.size)
    }

    /// `range` of the object (all of it when `None`), as it is read.
    pub async fn stream(
        &self,
        key: &str,
        range: Option<Range<u64>>,
    ) -> Result<BoxStream<'static, Result<Bytes, StorageError>>, StorageError> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        Ok(self
            .store
            .get_opts(&Path::from(key), options)
            .await?
            .into_stream())
    }

    /// Starts writing `key` in parts; nothing is visible until [`Writer::finish`].
    pub async fn writer(&self, key: &str) -> Result<Writer, StorageError> {
        let upload = self.store.put_multipart(&Path::from(key)).await?;
        Ok(Writer {
            inner: WriteMultipart::new_with_chunk_size(upload, PART_BYTES),
            size: 0,
        })
    }

    /// Deletes one object; one already gone is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(StorageError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Deletes every object under `prefix` (a folder: `videos/<id>`).
    pub async fn delete_prefix(&self, prefix: &str) -> Result<usize, StorageError> {
        let prefix = Path::from(prefix);
        let keys: Vec<Path> = self
            .store
            .list(Some(&prefix))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await?;
        let n = keys.len();
        for key in keys {
            match self.store.delete(&key).await {
                Ok(()) | Err(StorageError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(n)
    }
}

/// Parts of a multipart write: S3's minimum part size is 5 MiB.
const PART_BYTES: usize = 5 * 1024 * 1024;
/// Parts uploaded at once while writing.
const PARTS_IN_FLIGHT: usize = 2;

/// An object being written in parts, at most a few parts in memory at once.
pub struct Writer {
    inner: WriteMultipart,
    size: u64,
}

impl Writer {
    pub async fn write(&mut self, bytes: Bytes) -> Result<(), StorageError> {
        self.inner.wait_for_capacity(PARTS_IN_FLIGHT).await?;
        self.size += bytes.len() as u64;
        self.inner.put(bytes);
        Ok(())
    }

    pub fn written(&self) -> u64 {
        self.size
    }

    pub async fn finish(self) -> Result<Stored, StorageError> {
        let size = self.size;
        self.inner.finish().await?;
        Ok(Stored { size })
    }

    /// Gives up: nothing is stored.
    pub async fn abort(self) {
        if let Err(e) = self.inner.abort().await {
            tracing::warn!(error = %e, "an abandoned upload was not cleaned up");
        }
    }
}

/// A multipart body that cannot be read, in the envelope: 415 when it is not
/// multipart at all, the payload's own error (413, ...) or 400.
pub fn multipart_error(error: actix_multipart::MultipartError) -> crate::ApiError {
    use actix_multipart::MultipartError;
    match error {
        MultipartError::ContentTypeMissing
        | MultipartError::ContentTypeParse
        | MultipartError::ContentTypeIncompatible
        | MultipartError::BoundaryMissing => crate::ApiError::UnsupportedMediaType(
            "Content-Type must be multipart/form-data with a boundary".to_owned(),
        ),
        MultipartError::Payload(e) => crate::error::payload_error_handler(e),
        other => crate::ApiError::BadRequest(format!("Malformed multipart body: {other}")),
    }
}

/// Copies a stored object into a local file (for tools that need a path).
pub async fn download_to(
    storage: &Storage,
    key: &str,
    file: &std::path::Path,
) -> Result<u64, anyhow::Error> {
    use tokio::io::AsyncWriteExt;
    let mut out = tokio::fs::File::create(file).await?;
    let mut stream = storage.stream(key, None).await?;
    let mut n = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        n += chunk.len() as u64;
        out.write_all(&chunk).await?;
    }
    out.flush().await?;
    Ok(n)
}

/// Stores a local file under `key`, streamed in parts.
pub async fn upload_file(
    storage: &Storage,
    key: &str,
    file: &std::path::Path,
) -> Result<u64, anyhow::Error> {
    use tokio::io::AsyncReadExt;
    let mut input = tokio::fs::File::open(file).await?;
    let mut writer = storage.writer(key).await?;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match input.read(&mut buf).await {
            Ok(n) => n,
            Err(e) => {
                writer.abort().await;
                return Err(e.into());
            }
        };
        if n == 0 {
            break;
        }
        if let Err(e) = writer.write(Bytes::copy_from_slice(&buf[..n])).await {
            writer.abort().await;
            return Err(e.into());
        }
    }
    Ok(writer.finish().await?.size)
}
