//! The `/3/...` handler: authentication, injected faults, and dispatch on the path
//! to TMDB's list, search, discover, details and reference endpoints.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::catalog::{Catalog, Media, Title, MOVIE_GENRES, TV_GENRES};
use super::{FailureMode, SimState};

const PAGE_SIZE: usize = 20;
const MAX_PAGE: usize = 500;
const MAX_APPEND: usize = 20;

/// An error in TMDB's shape: `{"success":false,"status_code":N,"status_message":"…"}`.
struct SimError {
    status: StatusCode,
    code: u32,
    message: &'static str,
}

const NOT_FOUND: SimError = SimError {
    status: StatusCode::NOT_FOUND,
    code: 34,
    message: "The resource you requested could not be found.",
};
const INVALID_PAGE: SimError = SimError {
    status: StatusCode::BAD_REQUEST,
    code: 22,
    message: "Invalid page: Pages start at 1 and max at 500. They are expected to be an integer.",
};
const INVALID_KEY: SimError = SimError {
    status: StatusCode::UNAUTHORIZED,
    code: 7,
    message: "Invalid API key: You must be granted a valid key.",
};
const INTERNAL: SimError = SimError {
    status: StatusCode::INTERNAL_SERVER_ERROR,
    code: 11,
    message: "Internal error: Something went wrong, contact TMDb.",
};
const RATE_LIMITED: SimError = SimError {
    status: StatusCode::TOO_MANY_REQUESTS,
    code: 25,
    message: "Your request count (#) is over the allowed limit of (40).",
};
const TOO_MANY_APPENDS: SimError = SimError {
    status: StatusCode::BAD_REQUEST,
    code: 18,
    message: "Validation failed: Too many append to response objects: The maximum number of remote calls is 20.",
};

impl SimError {
    fn response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(json!({
            "success": false,
            "status_code": self.code,
            "status_message": self.message,
        }))
    }
}

type Query = HashMap<String, String>;

pub async fn api(
    req: HttpRequest,
    state: web::Data<SimState>,
    query: web::Query<Query>,
) -> HttpResponse {
    let path = req.path().to_owned();
    state.record(&path);
    let (latency, failure) = state.take_fault();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(failure) = failure {
        match failure.mode {
            FailureMode::Error => return INTERNAL.response(),
            FailureMode::Unauthorized => return INVALID_KEY.response(),
            FailureMode::Timeout => {
                tokio::time::sleep(Duration::from_secs(60)).await;
                return INTERNAL.response();
            }
            FailureMode::RateLimit => {
                let mut resp = RATE_LIMITED.response();
                resp.headers_mut().insert(
                    actix_web::http::header::RETRY_AFTER,
                    failure.retry_after.into(),
                );
                return resp;
            }
        }
    }
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !state.authorized(query.get("api_key").map(String::as_str), bearer) {
        return INVALID_KEY.response();
    }
    let segments: Vec<&str> = path
        .trim_start_matches("/3/")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    match dispatch(state.catalog(), &segments, &query) {
        Ok(body) => HttpResponse::Ok().json(body),
        Err(e) => e.response(),
    }
}

fn dispatch(catalog: &Catalog, segments: &[&str], q: &Query) -> Result<Value, SimError> {
    match segments {
        ["configuration"] => Ok(configuration()),
        ["genre", media, "list"] => {
            let genres = match parse_media(media)? {
                Media::Movie => MOVIE_GENRES,
                Media::Tv => TV_GENRES,
            };
            let list: Vec<Value> = genres
                .iter()
                .map(|(id, name)| json!({"id": id, "name": name}))
                .collect();
            Ok(json!({ "genres": list }))
        }
        ["trending", kind, window] => trending(catalog, kind, window, q),
        ["movie", list @ ("popular" | "top_rated" | "now_playing" | "upcoming")] => {
            named_list(catalog, Media::Movie, list, q)
        }
        ["tv", list @ ("popular" | "top_rated" | "on_the_air" | "airing_today")] => {
            named_list(catalog, Media::Tv, list, q)
        }
        ["discover", media] => discover(catalog, parse_media(media)?, q),
        ["search", kind] => search(catalog, kind, q),
        [media, id] => {
            let title = find(catalog, media, id)?;
            details(catalog, title, q)
        }
        [media, id, sub @ ("recommendations" | "similar" | "videos" | "credits")] => {
            let title = find(catalog, media, id)?;
            sub_resource(catalog, title, sub, q)
        }
        ["tv", id, "season", n] => {
            let title = find(catalog, "tv", id)?;
            let n: u32 = n.parse().map_err(|_| NOT_FOUND)?;
            title.season(n).ok_or(NOT_FOUND)
        }
        _ => Err(NOT_FOUND),
    }
}

fn parse_media(raw: &str) -> Result<Media, SimError> {
    match raw {
        "movie" => Ok(Media::Movie),
        "tv" => Ok(Media::Tv),
        _ => Err(NOT_FOUND),
    }
}

fn find<'a>(catalog: &'a Catalog, media: &str, id: &str) -> Result<&'a Title, SimError> {
    let media = parse_media(media)?;
    let id: u32 = id.parse().map_err(|_| NOT_FOUND)?;
    catalog.get(media, id).ok_or(NOT_FOUND)
}

fn page_number(q: &Query) -> Result<usize, SimError> {
    match q.get("page") {
        None => Ok(1),
        Some(raw) => match raw.parse::<usize>() {
            Ok(p) if (1..=MAX_PAGE).contains(&p) => Ok(p),
            _ => Err(INVALID_PAGE),
        },
    }
}

/// TMDB's list envelope over `titles`, 20 per page, at most 500 pages.
fn paginate(titles: &[&Title], q: &Query, with_media_type: bool) -> Result<Value, SimError> {
    let page = page_number(q)?;
    let total = titles.len();
    let total_pages = total.div_ceil(PAGE_SIZE).clamp(1, MAX_PAGE);
    let results: Vec<Value> = titles
        .iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|t| t.list_item(with_media_type))
        .collect();
    Ok(json!({
        "page": page,
        "results": results,
        "total_pages": total_pages,
        "total_results": total,
    }))
}

fn by_popularity(a: &&Title, b: &&Title) -> Ordering {
    b.popularity.total_cmp(&a.popularity).then(a.id.cmp(&b.id))
}

fn trending(catalog: &Catalog, kind: &str, window: &str, q: &Query) -> Result<Value, SimError> {
    let salt = match window {
        "day" => 1001,
        "week" => 1007,
        _ => return Err(NOT_FOUND),
    };
    let mut titles: Vec<&Title> = match kind {
        "all" => catalog.movies.iter().chain(catalog.tv.iter()).collect(),
        "movie" => catalog.movies.iter().collect(),
        "tv" => catalog.tv.iter().collect(),
        _ => return Err(NOT_FOUND),
    };
    titles.sort_by(|a, b| {
        Catalog::trending_score(b, salt)
            .total_cmp(&Catalog::trending_score(a, salt))
            .then(a.id.cmp(&b.id))
    });
    paginate(&titles, q, true)
}

fn named_list(catalog: &Catalog, media: Media, list: &str, q: &Query) -> Result<Value, SimError> {
    let all = catalog.titles(media).iter();
    let mut titles: Vec<&Title> = match list {
        "now_playing" | "on_the_air" => all.filter(|t| t.current).collect(),
        "upcoming" | "airing_today" => all.filter(|t| t.soon).collect(),
        "top_rated" => all.filter(|t| t.vote_count >= 200).collect(),
        _ => all.collect(),
    };
    if list == "top_rated" {
        titles.sort_by(|a, b| {
            b.vote_average
                .total_cmp(&a.vote_average)
                .then(b.vote_count.cmp(&a.vote_count))
        });
    } else {
        titles.sort_by(by_popularity);
    }
    let mut page = paginate(&titles, q, false)?;
    if matches!(list, "now_playing" | "upcoming") {
        page["dates"] = json!({ "maximum": "2027-01-14", "minimum": "2026-10-01" });
    }
    Ok(page)
}

fn number<T: std::str::FromStr>(q: &Query, key: &str) -> Option<T> {
    q.get(key).and_then(|v| v.parse().ok())
}

fn discover(catalog: &Catalog, media: Media, q: &Query) -> Result<Value, SimError> {
    let year: Option<i32> = match media {
        Media::Movie => number(q, "primary_release_year").or_else(|| number(q, "year")),
        Media::Tv => number(q, "first_air_date_year"),
    };
    let min_rating: Option<f64> = number(q, "vote_average.gte");
    let min_votes: Option<u32> = number(q, "vote_count.gte");
    let genres = q.get("with_genres").map(String::as_str).unwrap_or("");
    let (wanted, any): (Vec<u32>, bool) = if genres.contains('|') {
        (
            genres.split('|').filter_map(|g| g.parse().ok()).collect(),
            true,
        )
    } else {
        (
            genres.split(',').filter_map(|g| g.parse().ok()).collect(),
            false,
        )
    };
    let mut titles: Vec<&Title> = catalog
        .titles(media)
        .iter()
        .filter(|t| year.is_none_or(|y| t.year == y))
        .filter(|t| min_rating.is_none_or(|r| t.vote_average >= r))
        .filter(|t| min_votes.is_none_or(|v| t.vote_count >= v))
        .filter(|t| {
            wanted.is_empty()
                || if any {
                    wanted.iter().any(|g| t.genre_ids.contains(g))
                } else {
                    wanted.iter().all(|g| t.genre_ids.contains(g))
                }
        })
        .collect();
    let sort = q
        .get("sort_by")
        .map(String::as_str)
        .unwrap_or("popularity.desc");
    let (key, direction) = sort.split_once('.').unwrap_or((sort, "desc"));
    titles.sort_by(|a, b| {
        let ord = match key {
            "vote_average" => a.vote_average.total_cmp(&b.vote_average),
            "vote_count" => a.vote_count.cmp(&b.vote_count),
            "primary_release_date" | "release_date" | "first_air_date" => a.date.cmp(&b.date),
            "title" | "original_title" | "name" | "original_name" => a.title.cmp(&b.title),
            _ => a.popularity.total_cmp(&b.popularity),
        };
        let ord = if direction == "asc" {
            ord
        } else {
            ord.reverse()
        };
        ord.then(a.id.cmp(&b.id))
    });
    paginate(&titles, q, false)
}

fn search(catalog: &Catalog, kind: &str, q: &Query) -> Result<Value, SimError> {
    let (sources, with_media_type): (Vec<&[Title]>, bool) = match kind {
        "multi" => (vec![&catalog.movies, &catalog.tv], true),
        "movie" => (vec![&catalog.movies], false),
        "tv" => (vec![&catalog.tv], false),
        _ => return Err(NOT_FOUND),
    };
    let words: Vec<String> = q
        .get("query")
        .map(|s| s.to_lowercase())
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let year: Option<i32> = match kind {
        "tv" => number(q, "first_air_date_year").or_else(|| number(q, "year")),
        _ => number(q, "primary_release_year").or_else(|| number(q, "year")),
    };
    let mut titles: Vec<&Title> = if words.is_empty() {
        Vec::new()
    } else {
        sources
            .into_iter()
            .flat_map(|s| s.iter())
            .filter(|t| {
                let haystack = format!("{} {}", t.title, t.original_title).to_lowercase();
                words.iter().all(|w| haystack.contains(w.as_str()))
            })
            .filter(|t| year.is_none_or(|y| t.year == y))
            .collect()
    };
    titles.sort_by(by_popularity);
    paginate(&titles, q, with_media_type)
}

fn details(catalog: &Catalog, title: &Title, q: &Query) -> Result<Value, SimError> {
    let mut doc = title.details();
    let appends: Vec<&str> = q
        .get("append_to_response")
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if appends.len() > MAX_APPEND {
        return Err(TOO_MANY_APPENDS);
    }
    let page_one = Query::new();
    for name in appends {
        if let Ok(section) = sub_resource(catalog, title, name, &page_one) {
            doc[name] = section;
        }
    }
    Ok(doc)
}

fn sub_resource(catalog: &Catalog, title: &Title, sub: &str, q: &Query) -> Result<Value, SimError> {
    match sub {
        "videos" => Ok(title.videos()),
        "credits" => Ok(title.credits()),
        "recommendations" => paginate(&catalog.recommendations(title), q, true),
        "similar" => paginate(&catalog.similar(title), q, false),
        _ => Err(NOT_FOUND),
    }
}

fn configuration() -> Value {
    json!({
        "images": {
            "base_url": "http://image.tmdb.org/t/p/",
            "secure_base_url": "https://image.tmdb.org/t/p/",
            "backdrop_sizes": ["w300", "w780", "w1280", "original"],
            "logo_sizes": ["w45", "w92", "w154", "w185", "w300", "w500", "original"],
            "poster_sizes": ["w92", "w154", "w185", "w342", "w500", "w780", "original"],
            "profile_sizes": ["w45", "w185", "h632", "original"],
            "still_sizes": ["w92", "w185", "w300", "original"],
        },
        "change_keys": ["adult", "air_date", "also_known_as", "biography", "birthday", "cast",
            "crew", "genres", "images", "overview", "poster_path", "release_dates", "title",
            "videos"],
    })
}
