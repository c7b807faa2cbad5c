//! Ayubi's object storage adapter: where stored backups live.
//!
//! A local directory by default (`LocalFileSystem`, writes land under a temporary name
//! and are renamed into place, so a crash never leaves half a backup under its key), or
//! an S3-compatible bucket such as Cloudflare R2 (`AmazonS3`). Both through the
//! `object_store` crate, the Arrow project's one interface over these stores, so the
//! code above never knows which it has. Uploads stream: objects above one part
//! (5 MiB) go up as a multipart upload, two parts in flight at most, so memory stays flat however large a backup is.

#![warn(missing_docs)]

mod backup;

pub use backup::TempFileSpools;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::buffered::BufWriter;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

/// Bytes buffered before an upload turns multipart, and the size of each part: S3's
/// smallest (R2 also wants every part but the last the same size).
const PART: usize = 5 * 1024 * 1024;
/// Parts in flight at once: memory is about (1 + this) × [`PART`] per upload.
const PARTS_IN_FLIGHT: usize = 2;

/// Where objects go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// A directory (created if missing).
    Local(std::path::PathBuf),
    /// An S3-compatible bucket.
    S3 {
        /// Bucket name.
        bucket: String,
        /// Endpoint URL (R2: `https://<account>.r2.cloudflarestorage.com`); empty for AWS.
        endpoint: String,
        /// Region (R2: `auto`).
        region: String,
        /// Access key id.
        access_key_id: String,
        /// Secret access key.
        secret_access_key: String,
    },
}

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// No such object.
    #[error("object not found")]
    NotFound,
    /// The store failed or is unreachable.
    #[error("object store: {0}")]
    Failed(String),
}

impl From<object_store::Error> for StorageError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => Self::NotFound,
            other => Self::Failed(other.to_string()),
        }
    }
}

impl From<std::io::Error> for StorageError {
    fn from(e: std::io::Error) -> Self {
        Self::Failed(e.to_string())
    }
}

/// A stored object being read.
pub struct Download {
    /// Its size.
    pub size: u64,
    /// Its bytes.
    pub body: BoxStream<'static, Result<Bytes, StorageError>>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("size", &self.size)
            .finish()
    }
}

/// The object store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
}

impl BlobStore {
    /// Opens the store.
    ///
    /// # Errors
    /// When the directory cannot be created or the S3 settings are incomplete.
    pub fn open(cfg: &StoreConfig) -> Result<Self, StorageError> {
        let store: Arc<dyn ObjectStore> = match cfg {
            StoreConfig::Local(dir) => {
                std::fs::create_dir_all(dir)?;
                Arc::new(LocalFileSystem::new_with_prefix(dir)?)
            }
            StoreConfig::S3 {
                bucket,
                endpoint,
                region,
                access_key_id,
                secret_access_key,
            } => {
                let mut b = AmazonS3Builder::new()
                    .with_bucket_name(bucket)
                    .with_region(region)
                    .with_access_key_id(access_key_id)
                    .with_secret_access_key(secret_access_key);
                if !endpoint.is_empty() {
                    // Path-style requests: R2 and MinIO-style endpoints take the bucket
                    // in the path; plain http only for an explicit local endpoint.
                    b = b
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"))
                        .with_virtual_hosted_style_request(false);
                }
                Arc::new(b.build()?)
            }
        };
        Ok(Self { store })
    }

    /// Streams the chunks of `body` into the object `key`; returns the bytes written. The
    /// object appears whole or not at all.
    ///
    /// # Errors
    /// When reading `body` or writing the store fails (a multipart upload is aborted).
    pub async fn put(
        &self,
        key: &str,
        body: &mut dyn ayubi_backup::ports::ByteSource,
    ) -> Result<u64, StorageError> {
        let path = parse(key)?;
        let mut w = BufWriter::with_capacity(self.store.clone(), path, PART)
            .with_max_concurrency(PARTS_IN_FLIGHT);
        let mut n = 0u64;
        loop {
            match body.chunk().await {
                Ok(Some(chunk)) => {
                    if let Err(e) = w.write_all(&chunk).await {
                        let _ = w.abort().await;
                        return Err(e.into());
                    }
                    n += chunk.len() as u64;
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = w.abort().await;
                    return Err(e.into());
                }
            }
        }
        w.shutdown().await?;
        Ok(n)
    }

    /// Reads the object `key`.
    ///
    /// # Errors
    /// [`StorageError::NotFound`]; `Failed`.
    pub async fn get(&self, key: &str) -> Result<Download, StorageError> {
        let r = self.store.get(&parse(key)?).await?;
        let size = r.meta.size;
        let body = r
            .into_stream()
            .map(|c| c.map_err(StorageError::from))
            .boxed();
        Ok(Download { size, body })
    }

    /// Deletes the object `key` (already gone is fine).
    ///
    /// # Errors
    /// `Failed`.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store.delete(&parse(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes every object under `prefix` (a whole path segment: `backups/7` does not
    /// touch `backups/70`); returns how many went.
    ///
    /// # Errors
    /// `Failed` (some objects may be gone already; calling again finishes the job).
    pub async fn delete_prefix(&self, prefix: &str) -> Result<usize, StorageError> {
        let locations = self
            .store
            .list(Some(&parse(prefix)?))
            .map_ok(|m| m.location)
            .boxed();
        let mut gone = self.store.delete_stream(locations);
        let mut n = 0;
        while let Some(r) = gone.next().await {
            match r {
                Ok(_) => n += 1,
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(n)
    }

    /// A cheap call that fails when the store is unreachable (for readiness).
    ///
    /// # Errors
    /// `Failed`.
    pub async fn check(&self) -> Result<(), StorageError> {
        match self.store.head(&parse("ayubi-readiness-probe")?).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

fn parse(key: &str) -> Result<Path, StorageError> {
    Path::parse(key).map_err(|e| StorageError::Failed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A document in memory, read in 1 KiB chunks.
    #[derive(Debug)]
    struct Chunks(Vec<Vec<u8>>);

    impl Chunks {
        fn of(bytes: &[u8]) -> Self {
            Self(bytes.chunks(1024).rev().map(<[u8]>::to_vec).collect())
        }
    }

    #[async_trait::async_trait]
    impl ayubi_backup::ports::ByteSource for Chunks {
        async fn chunk(&mut self) -> std::io::Result<Option<Vec<u8>>> {
            Ok(self.0.pop())
        }
    }

    #[tokio::test]
    async fn a_local_object_round_trips_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(&StoreConfig::Local(dir.path().join("b"))).unwrap();
        let body = vec![7u8; PART + 1234];
        let n = store
            .put("u/1/x.json", &mut Chunks::of(&body))
            .await
            .unwrap();
        assert_eq!(n, body.len() as u64);
        let d = store.get("u/1/x.json").await.unwrap();
        assert_eq!(d.size, n);
        let got: Vec<Bytes> = d.body.map(|c| c.unwrap()).collect().await;
        assert_eq!(got.concat(), body);
        store.delete("u/1/x.json").await.unwrap();
        store.delete("u/1/x.json").await.unwrap();
        for key in ["u/7/a.json", "u/7/b/c.json", "u/70/a.json"] {
            store.put(key, &mut Chunks::of(b"{}")).await.unwrap();
        }
        assert_eq!(store.delete_prefix("u/7").await.unwrap(), 2);
        assert!(store.get("u/70/a.json").await.is_ok());
        assert!(matches!(
            store.get("u/1/x.json").await,
            Err(StorageError::NotFound)
        ));
    }
}
