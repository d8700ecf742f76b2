//! Validated input types: each has a `parse` constructor that says what is wrong
//! in words a client can show.

pub mod email;
mod name;
mod password;

pub use common::domain::ImageUrl;
pub use email::Email;
pub use name::DisplayName;
pub use password::NewPassword;
