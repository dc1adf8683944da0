//! `forge.http_request`: an outbound HTTP(S) request, synchronous for the plugin
//! (abi.md §14). Needs `network = ["connect"]` and the host in `allowed_hosts`; the
//! operator's policy is asked again for every redirect's host.

use super::raw;
use crate::codec::{Reader, Request};
use crate::error::{codes, Error, Result};

/// An outbound request. Build it with [`HttpRequest::new`] or [`HttpRequest::get`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET`, `HEAD`, `POST`, `PUT`, `PATCH`, `DELETE` or `OPTIONS`.
    pub method: String,
    /// An absolute `http://` or `https://` URL.
    pub url: String,
    /// At most 64 `(name, value)` pairs; the host refuses `Host`, `Content-Length` and
    /// the other headers it sets itself (`FO_SYSCALL_HTTP_BAD_REQUEST`).
    pub headers: Vec<(String, String)>,
    /// Milliseconds for the whole exchange; 0: the host's default (10 s), cut to its maximum (30 s).
    pub timeout_ms: u32,
    /// Follow 301/302/303/307/308 (at most 5 times).
    pub follow_redirects: bool,
    /// At most 1 MiB.
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// A request with `method` to `url`: no headers, no body, the host's timeout, no redirects.
    pub fn new(method: &str, url: &str) -> HttpRequest {
        HttpRequest { method: method.to_string(), url: url.to_string(), headers: Vec::new(), timeout_ms: 0, follow_redirects: false, body: Vec::new() }
    }

    /// A `GET` of `url`.
    pub fn get(url: &str) -> HttpRequest {
        HttpRequest::new("GET", url)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> HttpRequest {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> HttpRequest {
        self.body = body.into();
        self
    }

    /// Sets the timeout in milliseconds.
    pub fn timeout_ms(mut self, ms: u32) -> HttpRequest {
        self.timeout_ms = ms;
        self
    }

    /// Follows redirects (the host asks policy about every new host).
    pub fn follow_redirects(mut self, follow: bool) -> HttpRequest {
        self.follow_redirects = follow;
        self
    }

    fn encode(&self) -> Result<Vec<u8>> {
        let count = u32::try_from(self.headers.len()).map_err(|_| Error::new(codes::TOO_LARGE, "too many headers"))?;
        let mut request = Request::new().field(self.method.as_bytes()).field(self.url.as_bytes()).u32(count);
        for (name, value) in &self.headers {
            request = request.field(name.as_bytes()).field(value.as_bytes());
        }
        request.u32(self.timeout_ms).u32(u32::from(self.follow_redirects)).rest(&self.body).finish()
    }
}

/// What came back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code, e.g. 200.
    pub status: u32,
    /// Headers as received, in order, duplicates kept (bytes that are not UTF-8 become U+FFFD).
    pub headers: Vec<(String, String)>,
    /// The URL that answered (after redirects).
    pub url: String,
    /// The body (at most 4 MiB).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// `forge.http_request` (errors: abi.md §14, e.g. `FO_ABI_HOST_DENIED`,
/// `FO_SYSCALL_HTTP_PRIVATE_ADDRESS`, `FO_SYSCALL_HTTP_TIMEOUT`).
pub fn http_request(request: &HttpRequest) -> Result<HttpResponse> {
    let answer = raw::call(raw::http_request, &request.encode()?)?;
    let mut reader = Reader::new(&answer, "forge.http_request");
    let status = reader.u32()?;
    let count = reader.u32()? as usize;
    if count > answer.len() / 8 {
        return Err(Error::new(codes::BAD_RESPONSE, format!("forge.http_request announced {count} headers in {} bytes", answer.len())));
    }
    let mut headers = Vec::with_capacity(count);
    for _ in 0..count {
        let name = String::from_utf8_lossy(reader.field()?).into_owned();
        headers.push((name, String::from_utf8_lossy(reader.field()?).into_owned()));
    }
    let url = reader.text()?;
    let body = reader.rest().to_vec();
    Ok(HttpResponse { status, headers, url, body })
}
