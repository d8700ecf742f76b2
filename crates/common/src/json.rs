//! The JSON body extractor every handler uses. Unlike `web::Json`, it takes only a
//! JSON object for a struct: serde's derived `Deserialize` also accepts an array
//! (`[]` would fill a struct with its defaults), which no request schema allows.
//! The body limit, the content-type check and the error envelope are actix's
//! `JsonConfig` as [`crate::server::serve`] sets it.

use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::error::ApiError;

/// A request body that must be a JSON object.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// `T`, read only from a JSON object.
#[derive(Debug)]
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        deserializer
            .deserialize_map(ObjectVisitor(PhantomData))
            .map(Object)
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Json::<Object<T>>::from_request(req, payload);
        Box::pin(async move { body.await.map(|b| Json(b.into_inner().0)) })
    }
}

/// An optional JSON object body read by hand (a route that also takes a cookie):
/// nothing, white space or `null` is `None`; anything but an object is 400.
pub fn optional_object<T: DeserializeOwned>(body: &[u8]) -> Result<Option<T>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice::<Option<Object<T>>>(body)
        .map(|parsed| parsed.map(|o| o.0))
        .map_err(|e| {
            ApiError::BadRequest(if e.is_data() {
                format!(
                    "Invalid JSON body: {}",
                    crate::error::strip_location(&e.to_string())
                )
            } else {
                "Malformed JSON body".to_owned()
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq, Default)]
    struct Patch {
        #[serde(default)]
        name: Option<String>,
    }

    #[test]
    fn only_objects_are_taken() {
        let ok: Object<Patch> = serde_json::from_str(r#"{"name":"a"}"#).unwrap();
        assert_eq!(ok.0.name.as_deref(), Some("a"));
        for bad in ["[]", "[\"a\"]", "\"a\"", "1", "null", "true"] {
            let err = serde_json::from_str::<Object<Patch>>(bad).unwrap_err();
            assert!(err.is_data(), "{bad}: {err}");
        }
        // A struct on its own would take the array: the reason for this type.
        assert_eq!(
            serde_json::from_str::<Patch>("[]").unwrap(),
            Patch::default()
        );
    }
}
