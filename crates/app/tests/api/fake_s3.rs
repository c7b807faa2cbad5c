//! An in-process fake of the S3 wire protocol, as much of it as `object_store` uses for
//! stored backups: path-style PUT, multipart upload (create, part, complete, abort), GET,
//! HEAD and DELETE. Signatures are not checked; objects live in memory.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct State {
    /// Refuse every write with 403 (a revoked key, a full bucket).
    refuse_writes: bool,
    objects: BTreeMap<String, Vec<u8>>,
    uploads: HashMap<String, BTreeMap<u32, Vec<u8>>>,
    completed: usize,
}

pub struct FakeS3 {
    pub url: String,
    state: Arc<Mutex<State>>,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for FakeS3 {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

impl FakeS3 {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(shared.clone()))
                .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
                .default_service(web::to(handle))
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .unwrap();
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}"),
            state,
            handle,
        }
    }

    /// Keys stored.
    pub fn objects(&self) -> Vec<String> {
        self.state.lock().unwrap().objects.keys().cloned().collect()
    }

    /// Makes every write fail with 403 (or succeed again).
    pub fn refuse_writes(&self, refuse: bool) {
        self.state.lock().unwrap().refuse_writes = refuse;
    }

    /// Multipart uploads completed.
    pub fn multipart_completed(&self) -> usize {
        self.state.lock().unwrap().completed
    }
}

const LAST_MODIFIED: &str = "Thu, 26 Nov 2026 10:00:00 GMT";

async fn handle(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<Arc<Mutex<State>>>,
) -> HttpResponse {
    let query: HashMap<String, String> =
        web::Query::<HashMap<String, String>>::from_query(req.query_string())
            .map(|q| q.into_inner())
            .unwrap_or_default();
    let key = req.path().trim_start_matches('/').to_owned();
    let mut st = state.lock().unwrap();
    let etag = |b: &[u8]| format!("\"{:x}\"", b.len());
    if st.refuse_writes && matches!(req.method().as_str(), "PUT" | "POST") {
        return HttpResponse::Forbidden()
            .content_type("application/xml")
            .body("<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>");
    }
    match (
        req.method().as_str(),
        query.get("uploadId"),
        query.contains_key("uploads"),
    ) {
        // DeleteObjects (object_store deletes through the bulk API).
        ("POST", None, false) if query.contains_key("delete") => {
            let text = String::from_utf8_lossy(&body).into_owned();
            let mut deleted = String::new();
            for part in text.split("<Key>").skip(1) {
                let k = part.split("</Key>").next().unwrap_or_default();
                st.objects.remove(&format!("{key}/{k}"));
                deleted.push_str(&format!("<Deleted><Key>{k}</Key></Deleted>"));
            }
            HttpResponse::Ok()
                .content_type("application/xml")
                .body(format!("<DeleteResult>{deleted}</DeleteResult>"))
        }
        ("POST", None, true) => {
            let id = uuid::Uuid::new_v4().simple().to_string();
            st.uploads.insert(id.clone(), BTreeMap::new());
            HttpResponse::Ok().content_type("application/xml").body(format!(
                "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>{key}</Key><UploadId>{id}</UploadId></InitiateMultipartUploadResult>"
            ))
        }
        ("PUT", Some(id), _) => {
            let n: u32 = query["partNumber"].parse().unwrap();
            let tag = etag(&body);
            match st.uploads.get_mut(id) {
                Some(parts) => {
                    parts.insert(n, body.to_vec());
                    HttpResponse::Ok().insert_header(("ETag", tag)).finish()
                }
                None => HttpResponse::NotFound().finish(),
            }
        }
        ("POST", Some(id), _) => match st.uploads.remove(id) {
            Some(parts) => {
                let whole: Vec<u8> = parts.into_values().flatten().collect();
                let tag = etag(&whole);
                st.objects.insert(key.clone(), whole);
                st.completed += 1;
                HttpResponse::Ok().content_type("application/xml").body(format!(
                    "<CompleteMultipartUploadResult><Location>/{key}</Location><Bucket>b</Bucket><Key>{key}</Key><ETag>{tag}</ETag></CompleteMultipartUploadResult>"
                ))
            }
            None => HttpResponse::NotFound().finish(),
        },
        ("DELETE", Some(id), _) => {
            st.uploads.remove(id);
            HttpResponse::NoContent().finish()
        }
        ("PUT", None, _) => {
            let tag = etag(&body);
            st.objects.insert(key, body.to_vec());
            HttpResponse::Ok().insert_header(("ETag", tag)).finish()
        }
        // ListObjectsV2 on the bucket.
        ("GET", None, _) if query.get("list-type").is_some_and(|t| t == "2") => {
            let prefix = format!("{key}/{}", query.get("prefix").cloned().unwrap_or_default());
            let contents: String = st
                .objects
                .iter()
                .filter(|(k, _)| k.starts_with(&prefix))
                .map(|(k, v)| {
                    format!(
                        "<Contents><Key>{}</Key><LastModified>2026-11-26T10:00:00.000Z</LastModified><Size>{}</Size><ETag>{}</ETag></Contents>",
                        k.strip_prefix(&format!("{key}/")).unwrap_or(k),
                        v.len(),
                        etag(v)
                    )
                })
                .collect();
            HttpResponse::Ok().content_type("application/xml").body(format!(
                "<ListBucketResult><Name>{key}</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>{contents}</ListBucketResult>"
            ))
        }
        ("GET" | "HEAD", None, _) => match st.objects.get(&key) {
            Some(b) => HttpResponse::Ok()
                .insert_header(("ETag", etag(b)))
                .insert_header(("Last-Modified", LAST_MODIFIED))
                .content_type("application/octet-stream")
                .body(if req.method() == "HEAD" {
                    Vec::new()
                } else {
                    b.clone()
                }),
            None => HttpResponse::NotFound()
                .content_type("application/xml")
                .body("<Error><Code>NoSuchKey</Code><Message>no such key</Message></Error>"),
        },
        ("DELETE", None, _) => {
            st.objects.remove(&key);
            HttpResponse::NoContent().finish()
        }
        _ => HttpResponse::BadRequest().finish(),
    }
}
