//! `ayubi-backup`'s storage ports: stored backups in the [`BlobStore`], and export spools
//! in unnamed temporary files hashed as they are written.

use crate::{BlobStore, StorageError};
use aws_lc_rs::digest;
use ayubi_backup::ports::{BackupObjects, ByteSource, ObjectError, SpoolFile, Spools};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use std::io::SeekFrom;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

/// Bytes read from a spool per chunk.
const CHUNK: usize = 64 * 1024;

impl From<StorageError> for ObjectError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => Self::NotFound,
            other => Self::Failed(other.to_string()),
        }
    }
}

/// A stored object being read.
struct ObjectBody(BoxStream<'static, Result<bytes::Bytes, StorageError>>);

impl std::fmt::Debug for ObjectBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ObjectBody(..)")
    }
}

#[async_trait::async_trait]
impl ByteSource for ObjectBody {
    async fn chunk(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        match self.0.next().await {
            None => Ok(None),
            Some(Ok(b)) => Ok(Some(b.to_vec())),
            Some(Err(e)) => Err(std::io::Error::other(e)),
        }
    }
}

#[async_trait::async_trait]
impl BackupObjects for BlobStore {
    async fn put(&self, key: &str, body: &mut dyn ByteSource) -> Result<(), ObjectError> {
        BlobStore::put(self, key, body).await?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<(u64, Box<dyn ByteSource>), ObjectError> {
        let d = BlobStore::get(self, key).await?;
        Ok((d.size, Box::new(ObjectBody(d.body))))
    }

    async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        Ok(BlobStore::delete(self, key).await?)
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<usize, ObjectError> {
        Ok(BlobStore::delete_prefix(self, prefix).await?)
    }
}

/// Export spools in the system's temporary directory (unnamed: deleted with the handle,
/// even after a crash).
#[derive(Debug, Clone, Copy, Default)]
pub struct TempFileSpools;

struct TempSpool {
    file: tokio::fs::File,
    hash: digest::Context,
    size: u64,
}

/// A finished spool, read from the start.
#[derive(Debug)]
struct SpoolBody(tokio::fs::File);

#[async_trait::async_trait]
impl ByteSource for SpoolBody {
    async fn chunk(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        let mut buf = vec![0; CHUNK];
        let n = self.0.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.truncate(n);
        Ok(Some(buf))
    }
}

#[async_trait::async_trait]
impl SpoolFile for TempSpool {
    async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.hash.update(bytes);
        self.file.write_all(bytes).await?;
        self.size += bytes.len() as u64;
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> std::io::Result<(Box<dyn ByteSource>, u64, String)> {
        self.file.flush().await?;
        self.file.seek(SeekFrom::Start(0)).await?;
        let sha256 = hex(self.hash.finish().as_ref());
        Ok((Box::new(SpoolBody(self.file)), self.size, sha256))
    }
}

#[async_trait::async_trait]
impl Spools for TempFileSpools {
    async fn create(&self) -> std::io::Result<Box<dyn SpoolFile>> {
        let file = tokio::task::spawn_blocking(tempfile::tempfile)
            .await
            .map_err(std::io::Error::other)??;
        Ok(Box::new(TempSpool {
            file: tokio::fs::File::from_std(file),
            hash: digest::Context::new(&digest::SHA256),
            size: 0,
        }))
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_spool_gives_back_what_was_written_with_its_length_and_sha256() {
        let mut spool = TempFileSpools.create().await.unwrap();
        spool.write(b"hello ").await.unwrap();
        spool.write(&vec![b'x'; 100_000]).await.unwrap();
        let (mut body, size, sha) = spool.finish().await.unwrap();
        let mut read = Vec::new();
        while let Some(c) = body.chunk().await.unwrap() {
            read.extend(c);
        }
        let mut expected = b"hello ".to_vec();
        expected.extend(vec![b'x'; 100_000]);
        assert_eq!(read, expected);
        assert_eq!(size, 100_006);
        assert_eq!(
            sha,
            hex(digest::digest(&digest::SHA256, &expected).as_ref())
        );
        assert_eq!(sha.len(), 64);
    }

    #[tokio::test]
    async fn a_stored_object_round_trips_and_a_missing_one_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(&crate::StoreConfig::Local(dir.path().to_owned())).unwrap();
        let mut spool = TempFileSpools.create().await.unwrap();
        spool.write(b"{\"format\":\"ayubi\"}").await.unwrap();
        let (mut body, _, _) = spool.finish().await.unwrap();
        BackupObjects::put(&store, "backups/1/a.json", body.as_mut())
            .await
            .unwrap();
        let (size, mut got) = BackupObjects::get(&store, "backups/1/a.json")
            .await
            .unwrap();
        assert_eq!(size, 18);
        assert_eq!(
            got.chunk().await.unwrap().unwrap(),
            b"{\"format\":\"ayubi\"}"
        );
        assert!(matches!(
            BackupObjects::get(&store, "backups/1/missing.json").await,
            Err(ObjectError::NotFound)
        ));
    }
}
