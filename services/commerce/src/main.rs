//! `commerce [serve]`, `migrate`, `openapi` and `health`: see `common::runner`.

fn main() -> std::process::ExitCode {
    common::runner::main::<commerce::Commerce>()
}
