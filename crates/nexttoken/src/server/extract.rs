//! A JSON body extractor whose rejections come out in the API's error shape.

use std::sync::Arc;

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::Json;
use serde::de::DeserializeOwned;

use super::errors::ApiError;
use super::state::AppState;

pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<Arc<AppState>> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, ApiError> {
        let limit = state.limits.body_timeout;
        let read = tokio::time::timeout(limit, Json::<T>::from_request(req, state));
        match read.await {
            Ok(Ok(Json(value))) => Ok(ApiJson(value)),
            Ok(Err(rejection)) => Err(ApiError::from_json_rejection(
                rejection,
                state.limits.max_body_bytes,
            )),
            Err(_) => Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                format!(
                    "the body did not arrive within {} s of the headers",
                    limit.as_secs_f64()
                ),
            )),
        }
    }
}
