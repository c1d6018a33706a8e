//! A UDF's source archive, uploaded the way the API asks: an upload URL
//! from `udfUploadSessionCreate`, a `PUT` of the ZIP there, and the upload
//! ID in the create or version create that builds from it.

use clickhouse_cloud_transport::{Bytes, DEFAULT_UPLOAD_TIMEOUT, UPLOAD_OPERATION, put_presigned};
use clickhouse_cloud_types::UdfUploadSession;
use uuid::Uuid;

use crate::{Error, Udfs};

/// The content type of a UDF source archive.
pub const UDF_ARCHIVE_CONTENT_TYPE: &str = "application/zip";

impl Udfs {
    /// Uploads `archive` (a ZIP of the function's sources) for one create
    /// or version create: asks for an upload URL
    /// ([`Udfs::udf_upload_session_create`]), puts the archive there
    /// ([`Udfs::put_archive`]) and gives the upload ID, the request's
    /// `uploadId`. An upload serves one attempt: upload again before
    /// retrying a create.
    ///
    /// ```no_run
    /// use clickhouse_cloud_client::types::{
    ///     UdfArgument, UdfCreateRequest, UdfCreateRequestExecutable, UdfCreateRequestExecutableType,
    ///     UdfRuntime,
    /// };
    /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid, zip: Vec<u8>) -> Result<(), clickhouse_cloud_client::Error> {
    /// let udfs = client.udfs(org);
    /// let upload = udfs.upload_archive(zip).await?;
    /// let body = UdfCreateRequestExecutable::new(
    ///     upload,
    ///     UdfRuntime::Python311,
    ///     vec![UdfArgument::new("x", "UInt64")],
    ///     "UInt64",
    ///     UdfCreateRequestExecutableType::Executable,
    ///     "double_it",
    /// );
    /// let made = udfs.udf_create(UdfCreateRequest::Executable(body)).await?;
    /// println!("version {:?} is {:?}", made.version, made.status);
    /// # Ok(()) }
    /// ```
    pub async fn upload_archive(&self, archive: impl Into<Bytes>) -> Result<Uuid, Error> {
        let session = self.udf_upload_session_create().await?.into_result();
        self.put_archive(&session, archive).await?;
        session.upload_id.ok_or(Error::UnusableUploadUrl {
            reason: "the upload session came without an uploadId",
        })
    }

    /// Puts `archive` to the URL of `session`, as `application/zip`, apart
    /// from API calls: without the key's `Authorization` header (the URL
    /// authorizes the upload), no redirect followed, no retry, within
    /// [`DEFAULT_UPLOAD_TIMEOUT`]. The URL must be HTTPS, or plain HTTP to
    /// the API's own origin (an emulator), with no user name, password or
    /// fragment ([`Error::UnusableUploadUrl`] otherwise, nothing sent). No
    /// error repeats the URL: its query is the upload's token. A refusal is
    /// [`Error::Api`] naming the operation `presignedUpload`.
    pub async fn put_archive(
        &self,
        session: &UdfUploadSession,
        archive: impl Into<Bytes>,
    ) -> Result<(), Error> {
        let url = session
            .upload_url
            .as_ref()
            .ok_or(Error::UnusableUploadUrl {
                reason: "the upload session came without an uploadUrl",
            })?;
        let api_base = self.client.shared().api_base.as_deref();
        usable(url.expose(), api_base).map_err(|reason| Error::UnusableUploadUrl { reason })?;
        put_presigned(
            url.expose(),
            UDF_ARCHIVE_CONTENT_TYPE,
            archive.into(),
            DEFAULT_UPLOAD_TIMEOUT,
        )
        .await
        .map_err(|source| Error::from_transport(UPLOAD_OPERATION, source))
    }
}

/// `scheme://authority` of `url`, lower-cased, and what follows.
fn origin(url: &str) -> Option<(String, String, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    Some((
        scheme.to_ascii_lowercase(),
        authority.to_ascii_lowercase(),
        tail,
    ))
}

/// Whether an upload URL may be used; why not, when not.
fn usable(url: &str, api_base: Option<&str>) -> Result<(), &'static str> {
    let (scheme, authority, tail) = origin(url).ok_or("it is not an absolute URL")?;
    if authority.is_empty() {
        return Err("it names no host");
    }
    if authority.contains('@') {
        return Err("it carries a user name or password");
    }
    if tail.contains('#') {
        return Err("it carries a fragment");
    }
    match scheme.as_str() {
        "https" => Ok(()),
        "http" => {
            let same_origin = api_base
                .and_then(origin)
                .is_some_and(|(s, a, _)| s == "http" && a == authority);
            if same_origin {
                Ok(())
            } else {
                Err("it is plain HTTP to another host than the API's")
            }
        }
        _ => Err("it is neither HTTPS nor HTTP"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_urls_are_https_or_the_apis_own_plain_origin() {
        let api = Some("http://127.0.0.1:8123");
        assert_eq!(usable("https://bucket.example/k?sig=1", None), Ok(()));
        assert_eq!(
            usable("http://127.0.0.1:8123/_uploads/u?token=t", api),
            Ok(())
        );
        assert_eq!(usable("HTTP://127.0.0.1:8123/x", api), Ok(()));
        assert!(usable("http://127.0.0.1:8124/x", api).is_err());
        assert!(usable("http://127.0.0.1:8123/x", None).is_err());
        assert!(usable("http://127.0.0.1:8123/x", Some("https://127.0.0.1:8123")).is_err());
        assert!(usable("https://user:pw@bucket.example/k", None).is_err());
        assert!(usable("https://bucket.example/k#frag", None).is_err());
        assert!(usable("ftp://bucket.example/k", None).is_err());
        assert!(usable("https:///k", None).is_err());
        assert!(usable("bucket.example/k", None).is_err());
    }
}
