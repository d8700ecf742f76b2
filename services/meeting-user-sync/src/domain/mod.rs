//! Validated input types of meetings: each `parse` says what is wrong in words a
//! client can show.

mod meeting;

pub use meeting::{ChatText, Description, DurationMinutes, JoinCode, MeetingTitle, ScheduledAt};
