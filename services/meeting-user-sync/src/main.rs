//! `meeting-user-sync [serve]`, `migrate`, `openapi` and `health`: see `common::runner`.

fn main() -> std::process::ExitCode {
    common::runner::main::<meeting_user_sync::MeetingUserSync>()
}
