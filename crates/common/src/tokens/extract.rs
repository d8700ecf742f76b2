use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::{AuthUser, Role, TokenVerifier};
use crate::error::ApiError;

/// The bearer token of a request, if it has one.
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verifier = req.app_data::<web::Data<TokenVerifier>>().cloned();
        let token = bearer_token(req).map(str::to_owned);
        Box::pin(async move {
            let verifier =
                verifier.ok_or_else(|| ApiError::internal("token verifier not configured"))?;
            let token = token
                .ok_or_else(|| ApiError::Unauthenticated("Missing bearer token".to_owned()))?;
            verifier.verify(&token).await.map_err(ApiError::from)
        })
    }
}

/// The caller of a route that anonymous clients may use too: `None` without an
/// `Authorization` header; a header with a token that does not verify is 401,
/// never silently anonymous.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<AuthUser>);

impl FromRequest for MaybeUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if !req.headers().contains_key("authorization") {
            return Box::pin(async { Ok(MaybeUser(None)) });
        }
        let user = AuthUser::from_request(req, payload);
        Box::pin(async move { user.await.map(|u| MaybeUser(Some(u))) })
    }
}

/// The caller, provided it holds `role`; 403 otherwise.
fn with_role(
    req: &HttpRequest,
    payload: &mut Payload,
    role: Role,
    refusal: &'static str,
) -> LocalBoxFuture<'static, Result<AuthUser, ApiError>> {
    let user = AuthUser::from_request(req, payload);
    Box::pin(async move {
        let user = user.await?;
        if user.role == role {
            Ok(user)
        } else {
            Err(ApiError::Forbidden(refusal.to_owned()))
        }
    })
}

/// A caller with the `admin` role; 403 for anyone else.
#[derive(Debug, Clone)]
pub struct AdminUser(pub AuthUser);

impl FromRequest for AdminUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = with_role(req, payload, Role::Admin, "Admin role required");
        Box::pin(async move { user.await.map(AdminUser) })
    }
}

/// Another Reelstack service, holding a client-credentials service token.
#[derive(Debug, Clone)]
pub struct ServiceCaller(pub AuthUser);

impl FromRequest for ServiceCaller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = with_role(req, payload, Role::Service, "Service token required");
        Box::pin(async move { user.await.map(ServiceCaller) })
    }
}
