//! `auth [serve]`, `auth migrate`, `auth openapi`, `auth health`, and its own
//! `auth keys rotate` and `auth hash-bench [rounds]`: see `common::runner`.

fn main() -> std::process::ExitCode {
    common::runner::main::<auth::Auth>()
}
