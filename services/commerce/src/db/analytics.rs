//! Queries of analytics.

use diesel::pg::PgConnection;
use diesel::QueryResult;

/// Notes that a search for `query` found nothing, for the searches report
/// (called by the search route; a no-op until analytics is built).
pub fn record_zero_result(_conn: &mut PgConnection, _query: &str) -> QueryResult<()> {
    Ok(())
}
