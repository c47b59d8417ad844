//! Every refusal is a JSON body `{"error": "...", "fields": {...}?}` with a
//! 4xx status; warp's own rejections (no route, wrong method, bad JSON,
//! body too large, bad query) are mapped here too so nothing leaks as a 500
//! or as plain text.

use std::collections::BTreeMap;
use warp::http::StatusCode;
use warp::reject::Rejection;
use warp::Reply;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub fields: Option<BTreeMap<String, String>>,
    pub retry_after_s: Option<u64>,
}

impl warp::reject::Reject for ApiError {}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            fields: None,
            retry_after_s: None,
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "log in first")
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }
    pub fn too_many(retry_after_s: u64) -> Self {
        Self {
            retry_after_s: Some(retry_after_s),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("too many requests; try again in {retry_after_s} s"),
            )
        }
    }
    pub fn reject(self) -> Rejection {
        warp::reject::custom(self)
    }
    pub fn into_reply(self) -> warp::reply::Response {
        let mut body = serde_json::json!({ "error": self.message });
        if let Some(f) = self.fields {
            body["fields"] = serde_json::json!(f);
        }
        let mut resp =
            warp::reply::with_status(warp::reply::json(&body), self.status).into_response();
        if let Some(s) = self.retry_after_s {
            if let Ok(v) = warp::http::HeaderValue::from_str(&s.to_string()) {
                resp.headers_mut().insert("retry-after", v);
            }
        }
        resp
    }
}

/// Map any rejection onto a JSON error.
pub async fn recover(r: Rejection) -> Result<warp::reply::Response, std::convert::Infallible> {
    let e = if let Some(e) = r.find::<ApiError>() {
        ApiError {
            status: e.status,
            message: e.message.clone(),
            fields: e.fields.clone(),
            retry_after_s: e.retry_after_s,
        }
    } else if r.is_not_found() {
        ApiError::new(StatusCode::NOT_FOUND, "no such resource")
    } else if let Some(e) = r.find::<warp::filters::body::BodyDeserializeError>() {
        ApiError::bad_request(format!("malformed JSON body: {e}"))
    } else if r.find::<warp::reject::PayloadTooLarge>().is_some() {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "request body too large")
    } else if r.find::<warp::reject::LengthRequired>().is_some() {
        ApiError::new(
            StatusCode::LENGTH_REQUIRED,
            "a Content-Length header is required",
        )
    } else if let Some(e) = r.find::<warp::reject::InvalidQuery>() {
        ApiError::bad_request(format!("bad query: {e}"))
    } else if let Some(e) = r.find::<warp::reject::UnsupportedMediaType>() {
        ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, e.to_string())
    } else if let Some(e) = r.find::<warp::reject::MissingHeader>() {
        ApiError::bad_request(e.to_string())
    } else if let Some(e) = r.find::<warp::reject::InvalidHeader>() {
        ApiError::bad_request(e.to_string())
    } else if r.find::<warp::reject::MethodNotAllowed>().is_some() {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed on this resource",
        )
    } else {
        tracing::debug!(rejection = ?r, "unhandled rejection");
        ApiError::bad_request("bad request")
    };
    Ok(e.into_reply())
}
