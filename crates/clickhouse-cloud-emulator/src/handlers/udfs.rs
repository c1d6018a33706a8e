//! UDF upload sessions: `udfUploadSessionCreate` opens one, and the `PUT`
//! to its URL (`/_uploads/{uploadId}?token=...`, outside the API: no key,
//! only the token) keeps what the archive is. The creates that take the
//! archive are the generic store's, with [`crate::model::udfs`] on the way.

use std::collections::HashMap;

use axum::extract::{Path, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, ETAG};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse as _, Response};
use clickhouse_cloud_types::ops::{OrganizationPath, UdfUploadSessionCreate};
use clickhouse_cloud_types::{SecretValue, UdfUploadSession};
use uuid::Uuid;

use crate::model::access::{Access, Context};
use crate::model::error::ApiError;
use crate::model::udfs::{self, Put, UDF_ARCHIVE_LIMIT, UPLOAD_ROUTE};
use crate::model::world::World;
use crate::pipeline::{Answer, Handle, error_response};
use crate::routes::{Shared, Table};

impl Handle for UdfUploadSessionCreate {
    const ACCESS: Access = Access::Write;
    const STATUS: StatusCode = StatusCode::CREATED;

    fn run(
        world: &mut World,
        cx: &Context,
        _: OrganizationPath,
        _: (),
        _: (),
    ) -> Result<Answer<UdfUploadSession>, ApiError> {
        let base = udfs::base_url(cx.host.as_deref(), world);
        let org = world.org_mut(cx.caller.org)?;
        let opened = org.uploads.open(cx.now);
        let url = format!("{base}{UPLOAD_ROUTE}/{}?token={}", opened.id, opened.token);
        Ok(UdfUploadSession {
            expires_at: Some(opened.expires_at),
            upload_id: Some(opened.id),
            upload_url: Some(SecretValue::new(url)),
        }
        .into())
    }
}

/// `PUT /_uploads/{uploadId}?token=...`: keeps the size and SHA-256 of the
/// archive, answering `200` with its SHA-256 as the `ETag`; refusals come
/// in the API's error envelope (`400` with an `Authorization` header,
/// `403` for a wrong token, an expired or used URL or another content
/// type, `413` over [`UDF_ARCHIVE_LIMIT`], `405` for another method).
pub(crate) async fn receive(
    State((_, shared)): State<(std::sync::Arc<Table>, Shared)>,
    Path(upload): Path<String>,
    request: Request,
) -> Response {
    let request_id = Uuid::new_v4();
    let (parts, body) = request.into_parts();
    if parts.method != Method::PUT {
        let error = ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format_args!(
                "method {} is not allowed on an upload URL: PUT the archive",
                parts.method
            ),
        );
        return error_response(request_id, &error, None);
    }
    let query: HashMap<String, String> =
        serde_urlencoded::from_str(parts.uri.query().unwrap_or_default()).unwrap_or_default();
    let header = |name| {
        parts
            .headers
            .get(name)
            .and_then(|value: &HeaderValue| value.to_str().ok())
    };
    let put = Put {
        upload: &upload,
        token: query.get("token").map(String::as_str),
        authorization: parts.headers.contains_key(AUTHORIZATION),
        content_type: header(CONTENT_TYPE),
        length: header(CONTENT_LENGTH).and_then(|text| text.parse().ok()),
    };
    let admitted = udfs::admit_put(&mut lock(&shared), &put);
    if let Err(error) = admitted {
        return error_response(request_id, &error, None);
    }
    let limit = usize::try_from(UDF_ARCHIVE_LIMIT).unwrap_or(usize::MAX);
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(_) => return error_response(request_id, &udfs::too_large(), None),
    };
    match udfs::keep(&mut lock(&shared), &put, &bytes) {
        Ok(archive) => {
            let mut response = StatusCode::OK.into_response();
            if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", archive.sha256)) {
                response.headers_mut().insert(ETAG, etag);
            }
            response
        }
        Err(error) => error_response(request_id, &error, None),
    }
}

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, World> {
    shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
